using Orleans.Licensing.Server.Hosting;

namespace Orleans.Licensing.Server.Api;

/// <summary>
/// What the REST layer of this license server asks of the pool: requests go to this server's own
/// <see cref="IServerGrain"/> (claim 1), reads go to the leader and the catalog.
/// </summary>
public sealed class PoolGateway(IGrainFactory grains, ServerSettings settings)
{
    private static readonly TimeSpan LiveViewTimeout = TimeSpan.FromSeconds(2);

    public string ServerId => settings.ServerId;

    private IServerGrain Here(string code) => grains.GetServerGrain(settings.ServerId, code);

    public async Task<LicenseResponse> AddLicenseAsync(AddLicenseRequest body)
    {
        var code = Validate.Code(body.Code);
        if (string.IsNullOrWhiteSpace(body.Product)) throw Problems.Invalid("A product is required.");
        Validate.Count(body.Seats, "Seats");
        var license = new LicenseCode(code, body.Product, body.Seats, body.ExpiresAt);
        var distribution = await Here(code).AddLicenseCode(new AddLicenseCode(license, body.Distribution?.ToCriteria()));
        return await ViewAsync(distribution);
    }

    public async Task<LicenseResponse> AddAllocationsAsync(string code, AddAllocationsRequest body)
    {
        Validate.Code(code);
        Validate.Count(body.Count);
        await EnsureKnownAsync(code);
        return await ViewAsync(await Here(code).AddAllocations(new AddAllocations(code, body.Count)));
    }

    public async Task<LicenseResponse> ChangeDistributionAsync(string code, DistributionRequest body)
    {
        Validate.Code(code);
        await EnsureKnownAsync(code);
        return await ViewAsync(await Here(code).ChangeDistributionCriteria(new ChangeDistributionCriteria(code, body.ToCriteria())));
    }

    public async Task<IReadOnlyList<LicenseResponse>> GetLicensesAsync()
    {
        var codes = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes();
        var distributions = await Task.WhenAll(codes.Select(c => grains.GetGrain<IPoolGrain>(c).GetDistribution()));
        return await Task.WhenAll(distributions.OfType<Distribution>().Select(ViewAsync));
    }

    public async Task<LicenseResponse> GetLicenseAsync(string code)
    {
        Validate.Code(code);
        return await ViewAsync(await EnsureKnownAsync(code));
    }

    public async Task<(Lease? Lease, string? Denied)> CheckoutAsync(string code, CheckoutBody body)
    {
        Validate.Code(code);
        var clientId = Validate.ClientId(body.ClientId);
        Validate.Count(body.Count);
        var leaseId = body.LeaseId is null ? Guid.NewGuid().ToString("N") : Validate.LeaseId(body.LeaseId);
        var result = await Here(code).Checkout(new CheckoutRequest(leaseId, clientId, body.Count));
        return (result.Lease, result.DeniedReason);
    }

    /// <summary>A heartbeat; when <see cref="HeartbeatBody.ServerId"/> names another server it is a fail-over update (claims 13-15).</summary>
    public async Task<Lease> UpdateAsync(string code, string leaseId, HeartbeatBody body)
    {
        Validate.Code(code);
        Validate.LeaseId(leaseId);
        var clientId = Validate.ClientId(body.ClientId);
        Validate.Count(body.Count);
        var serverId = Validate.ServerId(body.ServerId);
        if (serverId != settings.ServerId)
        {
            // Fail-over is rare, so checking the origin costs the leader little; it keeps a made-up server id from
            // turning a heartbeat into a checkout.
            var distribution = await EnsureKnownAsync(code);
            if (distribution[serverId] is null)
            {
                throw new LicensingException(LicensingErrors.LeaseUnknown, $"No server '{serverId}' serves '{code}', so it holds no lease '{leaseId}'.");
            }
        }

        return await Here(code).Update(new LeaseUpdate(leaseId, clientId, body.Count, serverId));
    }

    /// <summary>
    /// Checks a lease in at the server that holds it: this one, or the one named by <paramref name="serverId"/>. Only
    /// the client it was granted to may (<paramref name="clientId"/>): nobody checks in someone else's seat by its id.
    /// </summary>
    public async Task CheckinAsync(string code, string leaseId, string? clientId, string? serverId)
    {
        Validate.Code(code);
        Validate.LeaseId(leaseId);
        var client = Validate.ClientId(clientId);
        var holder = serverId is null ? settings.ServerId : Validate.ServerId(serverId);
        if (holder != settings.ServerId) await EnsureServerAsync(code, holder);
        if (!await grains.GetServerGrain(holder, code).Checkin(leaseId, client))
        {
            await EnsureKnownAsync(code);
            throw new LicensingException(LicensingErrors.LeaseUnknown, $"Server '{holder}' holds no lease '{leaseId}' of '{code}' for client '{client}': it expired, was checked in, or never existed.");
        }
    }

    private async Task EnsureServerAsync(string code, string serverId)
    {
        var distribution = await EnsureKnownAsync(code);
        if (distribution[serverId] is null)
        {
            throw new LicensingException(LicensingErrors.LeaseUnknown, $"No server '{serverId}' serves '{code}'.");
        }
    }

    private async Task<Distribution> EnsureKnownAsync(string code) =>
        await grains.GetGrain<IPoolGrain>(code).GetDistribution()
        ?? throw new LicensingException(LicensingErrors.UnknownLicense, $"License code '{code}' is unknown.");

    private async Task<LicenseResponse> ViewAsync(Distribution d)
    {
        var shares = await Task.WhenAll(d.Servers.Select(async s => new ServerShareResponse(
            s.ServerId, s.Status, s.Allocated, await LiveInUseAsync(s, d.License.Code), s.Threshold, s.BaseShare, s.Held)));
        return new LicenseResponse(d.License.Code, d.License.Product, d.Total, d.License.ExpiresAt, d.FreePool, d.Version, d.LeaderServerId, shares);
    }

    /// <summary>The leader hears usage every sweep; asking the server itself gives the exact count now.</summary>
    private async Task<int> LiveInUseAsync(ServerShare share, string code)
    {
        if (share.Status != ServerStatus.Up) return share.InUse;
        try
        {
            return (await grains.GetServerGrain(share.ServerId, code).GetUsage().WaitAsync(LiveViewTimeout)).InUse;
        }
        catch (Exception e) when (TransientFailures.Is(e) || e is LicensingException { Error: LicensingErrors.Unavailable })
        {
            return share.InUse;
        }
    }
}
