using Orleans.Licensing.Server.Hosting;

namespace Orleans.Licensing.Server.Api;

/// <summary>REST API v1: license codes, allocations, distribution criteria, leases and servers.</summary>
public static class LicensingEndpoints
{
    public static IEndpointRouteBuilder MapLicensingApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").AddEndpointFilter<ProblemFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var licenses = api.MapGroup("/licenses").WithTags("Licenses");
        licenses.MapPost("/", async (HttpRequest request, PoolGateway pool) =>
            {
                var view = await pool.AddLicenseAsync(await JsonBody.ReadAsync<AddLicenseRequest>(request));
                return Results.Created($"/api/v1/licenses/{Uri.EscapeDataString(view.Code)}", view);
            })
            .WithName("AddLicenseCode").WithSummary("Add a license code (claim 11)")
            .Accepts<AddLicenseRequest>("application/json").Produces<LicenseResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status409Conflict);

        licenses.MapGet("/", async (PoolGateway pool) => Results.Ok(await pool.GetLicensesAsync()))
            .WithName("GetLicenses").WithSummary("All license codes with their distribution").Produces<IReadOnlyList<LicenseResponse>>();

        licenses.MapGet("/{code}", async (string code, PoolGateway pool) => Results.Ok(await pool.GetLicenseAsync(code)))
            .WithName("GetLicense").WithSummary("Seats, free pool, version, current leader and each server's share")
            .Produces<LicenseResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        licenses.MapPost("/{code}/allocations", async (string code, HttpRequest request, PoolGateway pool) =>
                Results.Ok(await pool.AddAllocationsAsync(code, await JsonBody.ReadAsync<AddAllocationsRequest>(request))))
            .WithName("AddAllocations").WithSummary("Add allocations to the free pool (claim 9)")
            .Accepts<AddAllocationsRequest>("application/json").Produces<LicenseResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        licenses.MapPut("/{code}/distribution", async (string code, HttpRequest request, PoolGateway pool) =>
                Results.Ok(await pool.ChangeDistributionAsync(code, await JsonBody.ReadAsync<DistributionRequest>(request))))
            .WithName("ChangeDistributionCriteria").WithSummary("Change distribution criteria: shares, even or weighted, thresholds (claim 7)")
            .Accepts<DistributionRequest>("application/json").Produces<LicenseResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        var leases = licenses.MapGroup("/{code}/leases").WithTags("Leases");
        leases.MapPost("/", async (string code, HttpRequest request, PoolGateway pool) =>
            {
                var (lease, denied) = await pool.CheckoutAsync(code, await JsonBody.ReadAsync<CheckoutBody>(request));
                if (lease is null) throw new LicensingException(LicensingErrors.NoAllocation, denied ?? $"No allocation of '{code}' is available.");
                return Results.Created($"/api/v1/licenses/{Uri.EscapeDataString(code)}/leases/{lease.LeaseId}", LeaseResponse.From(lease, DateTimeOffset.UtcNow));
            })
            .WithName("Checkout").WithSummary("Check out allocations: a lease (claim 1)")
            .Accepts<CheckoutBody>("application/json").Produces<LeaseResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        leases.MapPut("/{leaseId}", async (string code, string leaseId, HttpRequest request, PoolGateway pool) =>
                Results.Ok(LeaseResponse.From(await pool.UpdateAsync(code, leaseId, await JsonBody.ReadAsync<HeartbeatBody>(request)), DateTimeOffset.UtcNow)))
            .WithName("Heartbeat").WithSummary("Renew a lease; sent to another server than serverId it is a fail-over update and that server adopts the lease (claims 13-15)")
            .Accepts<HeartbeatBody>("application/json").Produces<LeaseResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        leases.MapDelete("/{leaseId}", async (string code, string leaseId, string? clientId, string? serverId, PoolGateway pool) =>
            {
                await pool.CheckinAsync(code, leaseId, clientId, serverId);
                return Results.NoContent();
            })
            .WithName("Checkin").WithSummary("Check a lease in: clientId names the client it was granted to; at the server named by serverId, default: this one")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/servers", (IClusterMembershipService membership, ServerSettings settings) => Results.Ok(Servers(membership, settings)))
            .WithTags("Servers").WithName("GetServers").WithSummary("The pool's license servers and their status")
            .Produces<IReadOnlyList<ServerResponse>>();

        if (app.ServiceProvider.GetRequiredService<ServerSettings>().DiagnosticsEndpoint) api.MapDiagnostics();
        return app;
    }

    /// <summary>One row per server id: a restarted server leaves a dead entry behind, so its newest entry wins.</summary>
    private static IReadOnlyList<ServerResponse> Servers(IClusterMembershipService membership, ServerSettings settings) =>
        [.. membership.CurrentSnapshot.Members.Values
            .Where(m => !string.IsNullOrEmpty(m.Name))
            .GroupBy(m => m.Name, StringComparer.Ordinal)
            .Select(g => g.OrderByDescending(m => m.SiloAddress.Generation).First())
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .Select(m => new ServerResponse(m.Name, m.Status.ToString(), m.SiloAddress.ToParsableString(), m.Name == settings.ServerId))];
}
