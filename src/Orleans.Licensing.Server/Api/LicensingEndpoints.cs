using System.Security.Claims;
using Orleans.Licensing.Server.Hosting;
using Orleans.Licensing.Server.Security;

namespace Orleans.Licensing.Server.Api;

/// <summary>REST API v1: license codes, allocations, distribution criteria, leases and servers.</summary>
public static class LicensingEndpoints
{
    public static IEndpointRouteBuilder MapLicensingApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").AddEndpointFilter<ProblemFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var licenses = api.MapGroup("/licenses").WithTags("Licenses");
        licenses.MapPost("/", async (HttpRequest request, ClaimsPrincipal user, PoolGateway pool) =>
            {
                var view = await pool.AddLicenseAsync(await JsonBody.ReadAsync<AddLicenseRequest>(request), user.Actor());
                return Results.Created($"/api/v1/licenses/{Uri.EscapeDataString(view.Code)}", view);
            })
            .WithName("AddLicenseCode").WithSummary("Add a license code from a vendor-signed grant (claim 11)").RequireAuthorization(LicensingPolicies.Admin)
            .Accepts<AddLicenseRequest>("application/json").Produces<LicenseResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status409Conflict);

        licenses.MapGet("/", async (PoolGateway pool) => Results.Ok(await pool.GetLicensesAsync()))
            .WithName("GetLicenses").WithSummary("All license codes with their distribution").RequireAuthorization(LicensingPolicies.Tables).Produces<IReadOnlyList<LicenseResponse>>();

        licenses.MapGet("/{code}", async (string code, PoolGateway pool) => Results.Ok(await pool.GetLicenseAsync(code)))
            .WithName("GetLicense").WithSummary("Seats, free pool, version, current leader and each server's share").RequireAuthorization(LicensingPolicies.Tables)
            .Produces<LicenseResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        licenses.MapPost("/{code}/allocations", async (string code, HttpRequest request, ClaimsPrincipal user, PoolGateway pool) =>
                Results.Ok(await pool.AddAllocationsAsync(code, await JsonBody.ReadAsync<AddAllocationsRequest>(request), user.Actor())))
            .WithName("AddAllocations").WithSummary("Add allocations to the free pool from a vendor-signed grant (claim 9)").RequireAuthorization(LicensingPolicies.Admin)
            .Accepts<AddAllocationsRequest>("application/json").Produces<LicenseResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        licenses.MapPut("/{code}/distribution", async (string code, HttpRequest request, ClaimsPrincipal user, PoolGateway pool) =>
                Results.Ok(await pool.ChangeDistributionAsync(code, await JsonBody.ReadAsync<DistributionRequest>(request), user.Actor())))
            .WithName("ChangeDistributionCriteria").WithSummary("Change distribution criteria: shares, even or weighted, thresholds (claim 7)").RequireAuthorization(LicensingPolicies.Admin)
            .Accepts<DistributionRequest>("application/json").Produces<LicenseResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        licenses.MapPut("/{code}/borrow-policy", async (string code, HttpRequest request, PoolGateway pool) =>
                Results.Ok(await pool.SetOfflineBorrowPolicyAsync(code, await JsonBody.ReadAsync<OfflineBorrowPolicyRequest>(request))))
            .WithName("SetOfflineBorrowPolicy").WithSummary("Set the offline borrow policy: the most seats borrowed at once pool-wide, the longest borrow (ISO 8601, at most P90D)")
            .RequireAuthorization(LicensingPolicies.Admin).Accepts<OfflineBorrowPolicyRequest>("application/json").Produces<LicenseResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        licenses.MapPut("/{code}/linger", async (string code, HttpRequest request, PoolGateway pool) =>
                Results.Ok(await pool.SetLingerAsync(code, await JsonBody.ReadAsync<LingerRequest>(request))))
            .WithName("SetLinger").WithSummary("Set the linger: how long a checked-in seat stays taken (ISO 8601, PT0S = off, at most PT24H; FlexNet LINGER)")
            .RequireAuthorization(LicensingPolicies.Admin).Accepts<LingerRequest>("application/json").Produces<LicenseResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);

        licenses.MapGet("/{code}/leases", async (string code, LeaseAdmin leases) => Results.Ok(await leases.GetLeasesAsync(code)))
            .WithTags("Leases").WithName("GetLeases")
            .WithSummary("Who holds what (lmstat): every live lease with its owner, and the leases held for a down server's fail-over (reader)")
            .RequireAuthorization(LicensingPolicies.Reader).Produces<IReadOnlyList<LeaseSummary>>().ProducesProblem(StatusCodes.Status404NotFound);

        licenses.MapPost("/{code}/leases/{leaseId}/release", async (string code, string leaseId, HttpRequest request, ClaimsPrincipal user, LeaseAdmin leases) =>
                Results.Ok(await leases.ReleaseAsync(code, leaseId, user.Actor(), (await JsonBody.ReadOptionalAsync<ReleaseBody>(request))?.Reason)))
            .WithTags("Leases").WithName("ReleaseLease")
            .WithSummary("Release a lease on an administrator's behalf (lmremove): its seat returns to its server; its client's next heartbeat hears lease-released (admin)")
            .RequireAuthorization(LicensingPolicies.Admin).Accepts<ReleaseBody>("application/json").Produces<LeaseSummary>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        // Lease calls: a client credential acts only for the client ids it covers; each credential has its own rate limit.
        var leases = licenses.MapGroup("/{code}/leases").WithTags("Leases")
            .RequireAuthorization(LicensingPolicies.Client).ProducesProblem(StatusCodes.Status429TooManyRequests);
        if (app.ServiceProvider.GetRequiredService<ServerSettings>().LeaseRateLimit) leases.RequireRateLimiting(SecurityServices.RateLimitPolicy);
        leases.MapPost("/", async (string code, HttpRequest request, ClaimsPrincipal user, PoolGateway pool) =>
            {
                var body = await JsonBody.ReadAsync<CheckoutBody>(request);
                user.EnsureCovers(Validate.ClientId(body.ClientId));
                var lease = await pool.CheckoutAsync(code, body, user.SeatCap());
                return Results.Created($"/api/v1/licenses/{Uri.EscapeDataString(code)}/leases/{lease.LeaseId}", LeaseResponse.From(lease, DateTimeOffset.UtcNow));
            })
            .WithName("Checkout").WithSummary("Check out allocations: a lease (claim 1); with borrowFor (ISO 8601) an offline borrow, held without heartbeats")
            .Accepts<CheckoutBody>("application/json").Produces<LeaseResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        leases.MapPut("/{leaseId}", async (string code, string leaseId, HttpRequest request, ClaimsPrincipal user, PoolGateway pool) =>
            {
                var body = await JsonBody.ReadAsync<HeartbeatBody>(request);
                user.EnsureCovers(Validate.ClientId(body.ClientId));
                return Results.Ok(LeaseResponse.From(await pool.UpdateAsync(code, leaseId, body), DateTimeOffset.UtcNow));
            })
            .WithName("Heartbeat").WithSummary("Renew a lease; sent to another server than serverId it is a fail-over update and that server adopts the lease (claims 13-15)")
            .Accepts<HeartbeatBody>("application/json").Produces<LeaseResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        leases.MapDelete("/{leaseId}", async (string code, string leaseId, string? clientId, string? serverId, ClaimsPrincipal user, PoolGateway pool) =>
            {
                user.EnsureCovers(Validate.ClientId(clientId));
                await pool.CheckinAsync(code, leaseId, clientId, serverId);
                return Results.NoContent();
            })
            .WithName("Checkin").WithSummary("Check a lease in: clientId names the client it was granted to; at the server named by serverId, default: this one")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/pool", async (PoolGateway pool, IGrantVerifier verifier) => Results.Ok(await pool.GetPoolAsync(verifier)))
            .WithTags("Servers").WithName("GetPool").WithSummary("The pool id (grants name it), which vendor keys this build trusts, and the trial seats")
            .RequireAuthorization(LicensingPolicies.Reader).Produces<PoolResponse>();

        api.MapGet("/servers", (IClusterMembershipService membership, ServerSettings settings) => Results.Ok(Servers(membership, settings)))
            .WithTags("Servers").WithName("GetServers").WithSummary("The pool's license servers and their status").RequireAuthorization(LicensingPolicies.Tables)
            .Produces<IReadOnlyList<ServerResponse>>();

        if (app.ServiceProvider.GetRequiredService<ServerSettings>().DiagnosticsEndpoint) api.MapDiagnostics().RequireAuthorization(LicensingPolicies.Admin);
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
