namespace Orleans.Licensing.Frontend;

/// <summary>What a team's own frontend does with the pool: read distributions, check out and in through the grains.</summary>
public static class PoolPages
{
    public static void MapPoolPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/pool", async (IGrainFactory grains) =>
            Results.Ok(await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes()));

        app.MapGet("/pool/{code}", async (string code, IGrainFactory grains) =>
            await grains.GetGrain<IPoolGrain>(code).GetDistribution() is { } distribution
                ? Results.Ok(distribution)
                : Results.Problem($"License code '{code}' is unknown.", statusCode: 404));

        // A checkout goes to one license server's ServerGrain; the frontend picks a functioning server by silo name.
        app.MapPost("/pool/{code}/checkout", async (string code, string clientId, int? count, IGrainFactory grains) =>
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
            var serverId = hosts.Select(h => h.SiloName).Order(StringComparer.Ordinal).First();
            try
            {
                var result = await grains.GetServerGrain(serverId, code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), clientId, count ?? 1));
                return result.Lease is { } lease ? Results.Ok(lease) : Results.Problem(result.DeniedReason, statusCode: 409);
            }
            catch (LicensingException e)
            {
                // The REST API's status and problem type for the same refusal.
                var (status, title) = ErrorStatus.Of(e.Error) ?? (500, "Unexpected error.");
                return Results.Problem(e.Message, statusCode: status, title: title, type: ErrorStatus.TypeBase + e.Error);
            }
        });

        app.MapDelete("/pool/{code}/leases/{leaseId}", async (string code, string leaseId, string serverId, string clientId, IGrainFactory grains) =>
            await grains.GetServerGrain(serverId, code).Checkin(leaseId, clientId) ? Results.NoContent() : Results.NotFound());
    }
}
