using Orleans.Licensing.Grants;
using Orleans.Licensing.Server.Hosting;
using Orleans.Licensing.Server.Security;

namespace Orleans.Licensing.Server.Api;

/// <summary>
/// What the REST layer of this license server asks of the pool: requests go to this server's own
/// <see cref="IServerGrain"/> (claim 1), reads go to the leader and the catalog.
/// </summary>
public sealed class PoolGateway(IGrainFactory grains, ServerSettings settings, GrantCheck grants, KeyRing keys, IClusterMembershipService membership)
{
    private static readonly TimeSpan LiveViewTimeout = TimeSpan.FromSeconds(2);

    public string ServerId => settings.ServerId;

    private IServerGrain Here(string code) => grains.GetServerGrain(settings.ServerId, code);

    public async Task<LicenseResponse> AddLicenseAsync(AddLicenseRequest body, string actor) =>
        await ViewAsync(await AddLicenseCodeAsync(body.Grant, body.Distribution?.ToCriteria(), actor));

    /// <summary>
    /// REST and the public contract (<see cref="LicensingApiGrain"/>): the leader's answer, before the live view.
    /// <paramref name="actor"/> (the credential's id) goes to the audit row of the usage log.
    /// </summary>
    public async Task<Distribution> AddLicenseCodeAsync(string? grantText, DistributionCriteria? criteria, string actor)
    {
        var grant = grants.Verify(grantText, GrantKinds.LicenseCode);
        var code = Validate.Code(grant.Code);
        return await Here(code).AddLicenseCode(new AddLicenseCode(grantText!.Trim(), criteria, actor));
    }

    public async Task<LicenseResponse> AddAllocationsAsync(string code, AddAllocationsRequest body, string actor) =>
        await ViewAsync(await AddAllocationsAsync(code, body.Grant, actor));

    public async Task<Distribution> AddAllocationsAsync(string code, string? grantText, string actor)
    {
        Validate.Code(code);
        var grant = grants.Verify(grantText, GrantKinds.Allocations);
        if (grant.Code != code) throw new LicensingException(GrantErrors.Mismatch, $"The grant adds allocations to '{grant.Code}', not '{code}'.");
        await EnsureKnownAsync(code);
        return await Here(code).AddAllocations(new AddAllocations(code, grantText!.Trim(), actor));
    }

    public async Task<LicenseResponse> ChangeDistributionAsync(string code, DistributionRequest body, string actor) =>
        await ViewAsync(await ChangeDistributionCriteriaAsync(code, body.ToCriteria(), actor));

    public async Task<Distribution> ChangeDistributionCriteriaAsync(string code, DistributionCriteria criteria, string actor)
    {
        Validate.Code(code);
        await EnsureKnownAsync(code);
        return await Here(code).ChangeDistributionCriteria(new ChangeDistributionCriteria(code, criteria, actor));
    }

    public async Task<IReadOnlyList<LicenseResponse>> GetLicensesAsync() => [.. (await GetLiveLicensesAsync()).Select(View)];

    /// <summary>Every code's distribution with live in-use counts (the license views).</summary>
    public async Task<IReadOnlyList<Distribution>> GetLiveLicensesAsync()
    {
        var codes = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes();
        var distributions = await Task.WhenAll(codes.Select(c => grains.GetGrain<IPoolGrain>(c).GetDistribution()));
        return await Task.WhenAll(distributions.OfType<Distribution>().Select(LiveAsync));
    }

    /// <summary>The pool: its id (grants name it), which keys it trusts, and the trial seats counted so far.</summary>
    public async Task<PoolResponse> GetPoolAsync(IGrantVerifier verifier)
    {
        var catalog = grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key);
        return new PoolResponse(await catalog.GetPoolId(), verifier.Mode.Describe(), await catalog.GetTrialSeats(), TrialLimit.Seats);
    }

    public async Task<LicenseResponse> GetLicenseAsync(string code) => View(await GetLiveLicenseAsync(code));

    public async Task<Distribution> GetLiveLicenseAsync(string code)
    {
        Validate.Code(code);
        return await LiveAsync(await EnsureKnownAsync(code));
    }

    /// <summary>
    /// A checkout, for REST and the public contract alike: the lease, or the denial as the <see cref="LicensingException"/>
    /// both answer with (one place, so that the two doors cannot drift).
    /// </summary>
    /// <param name="cap">The credential's seat cap, counted by this server's grain (<see cref="SeatCap"/>).</param>
    public async Task<Lease> CheckoutAsync(string code, CheckoutBody body, SeatCap? cap = null)
    {
        Validate.Code(code);
        var clientId = Validate.ClientId(body.ClientId);
        Validate.Count(body.Count);
        if (body.Count > keys.Options.MaxCheckoutCount) throw Problems.Invalid($"One checkout may ask for at most {keys.Options.MaxCheckoutCount} allocations.");
        var leaseId = body.LeaseId is null ? Guid.NewGuid().ToString("N") : Validate.LeaseId(body.LeaseId);
        var owner = Validate.Owner(body.User, body.Host, body.DisplayName);
        TimeSpan? borrowFor = body.BorrowFor is null ? null : Validate.Duration(body.BorrowFor, "borrowFor");
        var result = await Here(code).Checkout(new CheckoutRequest(leaseId, clientId, body.Count, cap, owner) { BorrowFor = borrowFor });
        return result.Lease ?? throw new LicensingException(result.DeniedError ?? LicensingErrors.NoAllocation, result.DeniedReason ?? $"No allocation of '{code}' is available.");
    }

    public async Task<LicenseResponse> SetOfflineBorrowPolicyAsync(string code, OfflineBorrowPolicyRequest body)
    {
        if (body.MaxCount is null) throw Problems.Invalid("maxCount is required (0 turns offline borrowing off).");
        return await ViewAsync(await SetOfflineBorrowPolicyAsync(code, body.MaxCount.Value, Validate.Duration(body.MaxDuration, "maxDuration")));
    }

    /// <summary>REST: a code's linger (docs/admin/linger.md); validated here and again at the leader.</summary>
    public async Task<LicenseResponse> SetLingerAsync(string code, LingerRequest body)
    {
        Validate.Code(code);
        var linger = Validate.IsoDuration(body.Linger, "linger must be an ISO 8601 duration such as \"PT5M\" (\"PT0S\" turns it off).");
        if (linger < TimeSpan.Zero || linger > OfflineBorrowPolicy.LingerCeiling) throw Problems.Invalid($"linger must be between PT0S (off) and PT{OfflineBorrowPolicy.LingerCeiling.TotalHours:0}H.");
        await EnsureKnownAsync(code);
        return await ViewAsync(await Here(code).SetLinger(new SetLinger(code, linger)));
    }

    /// <summary>REST and the public contract: the leader validates against the code's seats and answers the new view.</summary>
    public async Task<Distribution> SetOfflineBorrowPolicyAsync(string code, int maxCount, TimeSpan maxDuration)
    {
        Validate.Code(code);
        if (maxDuration <= TimeSpan.Zero || maxDuration > OfflineBorrowPolicy.Ceiling) throw Problems.Invalid($"maxDuration must be more than zero and at most {OfflineBorrowPolicy.Ceiling.TotalDays:0} days.");
        await EnsureKnownAsync(code);
        return await Here(code).SetOfflineBorrowPolicy(new SetOfflineBorrowPolicy(code, maxCount, maxDuration));
    }

    /// <summary>
    /// A heartbeat. When <see cref="HeartbeatBody.ServerId"/> names another server that is up (behind a load balancer
    /// a client's requests land on any server), it is forwarded to that server's grain and answered as that server
    /// answers: renewed there, or refused there (lease unknown, conflict), never turned into an adoption. Only when
    /// the named server is not up, does not answer within <see cref="ServerSettings.HeartbeatForwardTimeout"/> or answers "unavailable" is it
    /// a fail-over update here (claims 13-15), exactly as a client that found its server dead and came here would do.
    /// </summary>
    public async Task<Lease> UpdateAsync(string code, string leaseId, HeartbeatBody body)
    {
        Validate.Code(code);
        Validate.LeaseId(leaseId);
        var clientId = Validate.ClientId(body.ClientId);
        Validate.Count(body.Count);
        var serverId = Validate.ServerId(body.ServerId);
        var update = new LeaseUpdate(leaseId, clientId, body.Count, serverId, Validate.Owner(body.User, body.Host, body.DisplayName));
        if (serverId != settings.ServerId && IsActive(serverId))
        {
            try
            {
                return await grains.GetServerGrain(serverId, code).Update(update).WaitAsync(settings.HeartbeatForwardTimeout);
            }
            catch (Exception e) when (TransientFailures.Is(e) || e is LicensingException { Error: LicensingErrors.Unavailable })
            {
                // Not answering: from here on this is what a client does when its server is gone.
            }
        }

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

        return await Here(code).Update(update);
    }

    /// <summary>Whether membership (this silo's view, no call) has an active silo named <paramref name="serverId"/>.</summary>
    internal bool IsActive(string serverId)
    {
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && member.Name == serverId) return true;
        }

        return false;
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
        // An active server of that name answers for itself (unknown lease: false below); asking the leader first
        // would be a leader call per check-in behind a load balancer.
        if (holder != settings.ServerId && !IsActive(holder))
        {
            await EnsureServerAsync(code, holder);
            if (await ReturnAtLeaderAsync(code, leaseId, client, holder)) return;
        }

        bool checkedIn;
        try
        {
            var call = grains.GetServerGrain(holder, code).Checkin(leaseId, client);
            checkedIn = holder == settings.ServerId ? await call : await call.WaitAsync(settings.HeartbeatForwardTimeout);
        }
        catch (Exception e) when (holder != settings.ServerId && (TransientFailures.Is(e) || e is LicensingException { Error: LicensingErrors.Unavailable }))
        {
            // The lease's server does not answer: an offline borrow is returned at the leader; anything else fails as before.
            if (await ReturnAtLeaderAsync(code, leaseId, client, holder)) return;
            throw;
        }

        if (!checkedIn)
        {
            await EnsureKnownAsync(code);
            throw new LicensingException(LicensingErrors.LeaseUnknown, $"Server '{holder}' holds no lease '{leaseId}' of '{code}' for client '{client}': it expired, was checked in, or never existed.");
        }
    }

    /// <summary>An early return of an offline borrow whose server is down (a leader turn); false when it is no offline borrow there.</summary>
    private Task<bool> ReturnAtLeaderAsync(string code, string leaseId, string clientId, string serverId) =>
        grains.GetGrain<IPoolGrain>(code).ReturnOfflineBorrow(leaseId, clientId, serverId);

    private async Task EnsureServerAsync(string code, string serverId)
    {
        var distribution = await EnsureKnownAsync(code);
        if (distribution[serverId] is null)
        {
            throw new LicensingException(LicensingErrors.LeaseUnknown, $"No server '{serverId}' serves '{code}'.");
        }
    }

    internal async Task<Distribution> EnsureKnownAsync(string code) =>
        await grains.GetGrain<IPoolGrain>(code).GetDistribution()
        ?? throw new LicensingException(LicensingErrors.UnknownLicense, $"License code '{code}' is unknown.");

    private async Task<LicenseResponse> ViewAsync(Distribution d) => View(await LiveAsync(d));

    private static LicenseResponse View(Distribution d) => new(d.License.Code, d.License.Product, d.Total, d.License.ExpiresAt, d.FreePool, d.Version,
        d.LeaderServerId, [.. d.Servers.Select(s => new ServerShareResponse(s.ServerId, s.Status, s.Allocated, s.InUse, s.Threshold, s.BaseShare, s.Held))], d.License.Trial,
        d.OfflineBorrow is { } b ? new OfflineBorrowResponse(b.Policy.MaxCount, System.Xml.XmlConvert.ToString(b.Policy.MaxDuration), b.Policy.Version, b.Borrowed, System.Xml.XmlConvert.ToString(b.Policy.Linger)) : null);

    /// <summary>The distribution with each functioning server's own in-use count now.</summary>
    public async Task<Distribution> LiveAsync(Distribution d)
    {
        var shares = await Task.WhenAll(d.Servers.Select(async s => s with { InUse = await LiveInUseAsync(s, d.License.Code) }));
        return d with { Servers = shares };
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
