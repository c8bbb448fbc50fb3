namespace Orleans.Licensing.Frontend;

/// <summary>
/// What a team's own frontend does with the pool, through the public contract only (<see cref="ILicensingApiGrain"/>;
/// the pool's other grains refuse Orleans clients): read license views, check out, renew and check in. The frontend
/// does not decide who may do what: it passes its HTTP caller's credential (the API key or bearer token of
/// <c>Authorization: Bearer</c> or <c>X-Api-Key</c>) with every call, and the license server checks it with its own
/// keys and the REST roles. Refusals keep the REST API's status and problem type.
/// </summary>
public static class PoolPages
{
    public static void MapPoolPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/pool", (HttpRequest request, IGrainFactory grains) => Call(request, async credential =>
            Results.Ok((await Api(grains).GetLicenses(credential)).Select(d => d.License.Code))));

        app.MapGet("/pool/{code}", (string code, HttpRequest request, IGrainFactory grains) => Call(request, async credential =>
            Results.Ok(await Api(grains).GetLicense(credential, code))));

        // The license server whose gateway takes the call grants the lease from its own allocations.
        app.MapPost("/pool/{code}/checkout", (string code, string clientId, int? count, HttpRequest request, IGrainFactory grains) => Call(request, async credential =>
            Results.Ok(await Api(grains).Checkout(credential, code, clientId, count ?? 1, leaseId: null))));

        app.MapPut("/pool/{code}/leases/{leaseId}", (string code, string leaseId, string clientId, int count, string serverId, HttpRequest request, IGrainFactory grains) =>
            Call(request, async credential => Results.Ok(await Api(grains).Heartbeat(credential, code, new LeaseUpdate(leaseId, clientId, count, serverId)))));

        app.MapDelete("/pool/{code}/leases/{leaseId}", (string code, string leaseId, string? serverId, string clientId, HttpRequest request, IGrainFactory grains) =>
            Call(request, async credential =>
            {
                await Api(grains).Checkin(credential, code, leaseId, clientId, serverId);
                return Results.NoContent();
            }));
    }

    private static ILicensingApiGrain Api(IGrainFactory grains) => grains.GetGrain<ILicensingApiGrain>(0);

    private static async Task<IResult> Call(HttpRequest request, Func<string, Task<IResult>> call)
    {
        try
        {
            return await call(Credential(request));
        }
        catch (LicensingException e)
        {
            // The REST API's status and problem type for the same refusal.
            var (status, title) = ErrorStatus.Of(e.Error) ?? (e.Error.StartsWith("grant-", StringComparison.Ordinal) ? (400, "The grant is refused.") : (500, "Unexpected error."));
            return Results.Problem(e.Message, statusCode: status, title: title, type: ErrorStatus.TypeBase + e.Error,
                extensions: new Dictionary<string, object?> { ["error"] = e.Error });
        }
    }

    /// <summary>The caller's credential as sent, or empty (the license server then refuses: unauthenticated).</summary>
    private static string Credential(HttpRequest request)
    {
        if (request.Headers.TryGetValue("X-Api-Key", out var key) && key.Count == 1) return key[0] ?? "";
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : "";
    }
}
