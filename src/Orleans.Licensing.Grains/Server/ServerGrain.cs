using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Placement;
using Orleans.Licensing.Usage;
using Orleans.Placement;

namespace Orleans.Licensing;

/// <summary>
/// One license server's part of one license code. It grants checkouts from its own allocations (claim 30), borrows
/// from the leader when usage passes its threshold (claims 2, 3, 31; <see cref="Borrower"/>) and adopts the leases of
/// clients in fail-over mode (claim 13). Reentrant so that concurrent requests share one write: every state change is
/// made synchronously between awaits, and then awaited through <see cref="GroupCommit"/>. This file holds the message
/// handlers; activation, sync and the commit are in ServerGrain.Lifecycle.cs, the arithmetic in <see cref="SeatMath"/>.
/// </summary>
[ServerPlacement, Immovable, Reentrant]
public sealed partial class ServerGrain(
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    IServiceProvider services,
    IOptions<LicensingOptions> options,
    ILogger<ServerGrain> logger) : Grain, IServerGrain, IBorrowingServer
{
    private const int RecentGiveUpsKept = 64;

    private readonly LicensingOptions _options = options.Value;
    private readonly IUsageRecorder _usage = services.GetService<IUsageRecorder>() ?? NullUsageRecorder.Instance;

    // Leases an administrator released here within the last lease TTL: their clients hear "released", not "unknown".
    private readonly ReleasedLeases _released = new(options.Value.LeaseTtl);

    // Leases that expired here within the last lease TTL, by id: a fail-over claim that arrived in time may reach us late.
    private readonly Dictionary<string, LeaseRecord> _expired = new(StringComparer.Ordinal);

    // Adoptions the leader recorded that found no seat here yet: their seats stay bound until the lease would expire.
    private readonly Dictionary<string, AdoptedLease> _reserved = new(StringComparer.Ordinal);

    // Fail-over updates being adopted, by lease id: a copy the client re-sends before its answer joins the first.
    private readonly Dictionary<string, (string ClientId, int Count, Task<Lease> Adoption)> _adopting = new(StringComparer.Ordinal);

    async Task<CheckoutResult> IServerGrain.Checkout(CheckoutRequest request)
    {
        using var timed = LicensingTelemetry.Checkout(_code, _serverId);
        var license = EnsureServing();
        LicenseRules.ValidateLease(request.LeaseId, request.ClientId, request.Count, license);
        LicenseRules.ValidateOwner(request.Owner);
        _released.ThrowIfReleased(request.LeaseId, _serverId, DateTimeOffset.UtcNow);
        if (_leases.TryGet(request.LeaseId, out var existing))
        {
            // A retried checkout: the same lease, granted once (and only once it is durable).
            LicenseRules.EnsureSameHolder(existing, request.ClientId, request.Count);
            await CommitAsync();
            return new CheckoutResult(ToLease(existing), null);
        }

        if (OverCap(request) is { } capped) return capped;

        // An offline borrow is counted pool-wide by the leader before any seat is taken here; a denial below releases it.
        var (borrowEnd, refused) = await PermitOfflineBorrowAsync(request);
        if (refused is not null) return refused;
        while (Room < request.Count)
        {
            if (!await _borrower.BorrowAsync(request.Count, BorrowReason.ClientRequest))
            {
                _usage.Denial(_code, _serverId, request.ClientId, request.Count, LicensingErrors.NoAllocation);
                await ReleaseOfflineBorrowAsync(request.LeaseId, borrowEnd);
                return new CheckoutResult(null, $"No allocation of '{_code}' is available: {Record.Allocated} allocated here, {_leases.InUse} in use, and the leader found no source.");
            }
        }

        // Another checkout with this lease id may have been granted while this one waited for the leader.
        if (_leases.TryGet(request.LeaseId, out var raced))
        {
            LicenseRules.EnsureSameHolder(raced, request.ClientId, request.Count);
            await CommitAsync();
            return new CheckoutResult(ToLease(raced), null);
        }

        // Again after the borrow's await: checkouts of the same credential may have been granted meanwhile. From here
        // to AddLease nothing awaits, so the count and the grant are one step.
        if (OverCap(request) is { } late)
        {
            await ReleaseOfflineBorrowAsync(request.LeaseId, borrowEnd);
            return late;
        }

        var now = DateTimeOffset.UtcNow;
        var lease = new LeaseRecord(request.LeaseId, request.ClientId, request.Count, borrowEnd ?? now + _options.LeaseTtl, request.Owner, now) { Borrowed = borrowEnd is not null };
        AddLease(lease);
        await CommitAsync();
        _usage.Lease(UsageKinds.Checkout, _code, _serverId, lease, OfflineBorrowDetail(lease));
        return new CheckoutResult(ToLease(lease), null);
    }

    /// <summary>A denial when the request's credential cap has no room for it here (<see cref="SeatCap"/>).</summary>
    private CheckoutResult? OverCap(CheckoutRequest request)
    {
        if (request.Cap is not { } cap) return null;
        var now = DateTimeOffset.UtcNow;
        var held = _leases.All.Where(l => l.ExpiresAt > now && cap.Covers(l.ClientId)).Sum(l => l.Count);
        if (cap.Fits(held, request.Count)) return null;
        _usage.Denial(_code, _serverId, request.ClientId, request.Count, LicensingErrors.CredentialSeatCap);
        return new CheckoutResult(null,
            $"Credential '{cap.CredentialId}' may hold {cap.MaxSeats} seats of '{_code}' at '{_serverId}'; its clients hold {held}.", LicensingErrors.CredentialSeatCap);
    }

    async Task<Lease> IServerGrain.Update(LeaseUpdate update)
    {
        var license = EnsureServing();
        LicenseRules.ValidateLease(update.LeaseId, update.ClientId, update.Count, license);
        LicenseRules.ValidateOwner(update.Owner);
        if (update.ServerId == _serverId && _leases.TryGet(update.LeaseId, out var held))
        {
            LicenseRules.EnsureSameHolder(held, update.ClientId, update.Count);

            // An offline borrow needs no heartbeat, and one never shortens it: it is held until its end. A lingering
            // lease was checked in: a heartbeat does not renew it either.
            if (held.Borrowed || held.Lingering)
            {
                await CommitAsync();
                return ToLease(held);
            }

            // The owner given at checkout stays (a lease stored before owners were kept takes the heartbeat's).
            var renewed = held with { ExpiresAt = DateTimeOffset.UtcNow + _options.LeaseTtl, Owner = held.Owner ?? update.Owner };
            _leases.Put(renewed);
            await CommitAsync();
            _usage.Lease(UsageKinds.Heartbeat, _code, _serverId, renewed.LeaseId, renewed.ClientId, renewed.Count);
            return ToLease(renewed);
        }

        // This server held the lease and no longer does: it expired or was checked in. Re-granting it would let a late
        // heartbeat after a check-in hold a seat; the client hears that its lease is lost instead. Unless the leader
        // moved it to an adopter: that adoption may never have finished (the client heard no answer and came home),
        // and the leader decides.
        if (update.ServerId == _serverId) _released.ThrowIfReleased(update.LeaseId, _serverId, DateTimeOffset.UtcNow);
        if (update.ServerId == _serverId && !MovedAway.Contains(Record.MovedAway, update.LeaseId, DateTimeOffset.UtcNow))
        {
            throw new LicensingException(LicensingErrors.LeaseUnknown, $"Lease '{update.LeaseId}' expired or was checked in at '{_serverId}'.");
        }

        while (_adopting.TryGetValue(update.LeaseId, out var inFlight))
        {
            // A copy joins the adoption in flight. A claim naming another client or count waits for it to settle
            // instead: joining or replacing it would let the leader's one check per lease id answer the wrong caller.
            if (inFlight.ClientId == update.ClientId && inFlight.Count == update.Count) return await inFlight.Adoption;
            try
            {
                await inFlight.Adoption;
            }
            catch (Exception)
            {
                // The other claim's outcome is its caller's; this claim is judged on its own below.
            }

            if (_leases.TryGet(update.LeaseId, out var adopted)) LicenseRules.EnsureSameHolder(adopted, update.ClientId, update.Count);
        }

        var adoption = AdoptAsync(update);
        _adopting[update.LeaseId] = (update.ClientId, update.Count, adoption);
        try
        {
            return await adoption;
        }
        finally
        {
            if (_adopting.TryGetValue(update.LeaseId, out var mine) && mine.Adoption == adoption) _adopting.Remove(update.LeaseId);
        }
    }

    /// <summary>
    /// Fail-over mode (or failing back here with a copy this server has not dropped yet): the lease is adopted only once
    /// the leader has checked it against the server that holds it and moved its seat.
    /// </summary>
    private async Task<Lease> AdoptAsync(LeaseUpdate update)
    {
        var adoption = new AdoptedLease(update.LeaseId, update.ServerId, DateTimeOffset.UtcNow + _options.LeaseTtl, null, update.ClientId, update.Count);

        // A seat kept for an earlier try of this lease becomes this try's, in the same step (ReportAsync binds at once).
        if (_reserved.Remove(update.LeaseId, out var earlier)) _adoptions.Settle(earlier);
        string? refused;
        try
        {
            refused = await _adoptions.ReportAsync(adoption);
        }
        catch
        {
            _adoptions.Settle(adoption);
            throw;
        }

        if (refused is not null)
        {
            _adoptions.Settle(adoption);
            if (refused == LicensingErrors.LeaseUnknown)
            {
                throw new LicensingException(LicensingErrors.LeaseUnknown, $"Server '{update.ServerId}' holds no lease '{update.LeaseId}' of '{_code}' for client '{update.ClientId}' with count {update.Count}.");
            }

            throw new LicensingException(LicensingErrors.Unavailable, $"Lease '{update.LeaseId}' cannot be adopted yet: its server '{update.ServerId}' neither answers nor can be fenced. Retry.");
        }

        // The leader recorded the adoption and moved the lease's seat here: the seats bound for it are the lease's now,
        // whatever adoptions reported after it bind (they must not take them). A copy of our own from before the client
        // failed over is stale: the leader moved its seat away then (its first grant time is still the lease's).
        var stale = _leases.TryGet(update.LeaseId, out var copy) ? copy : null;
        _leases.Remove(update.LeaseId);
        while (Room + adoption.Count < update.Count)
        {
            // The lease is the client's: without a seat for it yet the answer is "retry", never a refusal, and the seats
            // bound for it stay bound until it would expire, for the client's next try.
            // (A borrow that found nothing may still have waited for a report whose grant made the room.)
            if (!await _borrower.BorrowAsync(0, BorrowReason.FailoverUpdate) && Room + adoption.Count < update.Count)
            {
                _reserved[update.LeaseId] = adoption;
                throw new LicensingException(LicensingErrors.Unavailable, $"No allocation of '{_code}' is available yet to adopt lease '{update.LeaseId}'. Retry.");
            }
        }

        // The owner is the client's own word (display data); the adopter cannot know the origin's grant time, so a lease
        // adopted from another server shows when it was adopted here.
        var adopted = new LeaseRecord(update.LeaseId, update.ClientId, update.Count, adoption.ExpiresAt, update.Owner,
            stale?.CheckedOutAt ?? adoption.ExpiresAt - _options.LeaseTtl);
        LogAdopted(_serverId, update.LeaseId, update.ServerId, update.Count);
        _adoptions.Settle(adoption);
        AddLease(adopted);
        await CommitAsync();
        _usage.Lease(UsageKinds.Adoption, _code, _serverId, adopted, update.ServerId);
        return ToLease(adopted);
    }

    async Task<bool> IServerGrain.Checkin(string leaseId, string clientId)
    {
        ThrowIfBroken();
        if (string.IsNullOrEmpty(leaseId) || !_leases.TryGet(leaseId, out var lease) || lease.ClientId != clientId) return false;
        if (lease.Lingering) return true;

        // With a linger the seat stays taken until it ends (the sweep expires it); the client hears success at once.
        var lingered = LingerRule.Lingered(lease, _linger, DateTimeOffset.UtcNow);
        if (lingered is null) _leases.Remove(leaseId);
        else _leases.Put(lingered);
        await CommitAsync();
        _usage.Lease(UsageKinds.Checkin, _code, _serverId, lease.LeaseId, lease.ClientId, lease.Count,
            lease.Borrowed ? "offline borrow returned" : lingered is null ? null : LingerRule.CheckinDetail(lingered));
        if (lease.Borrowed) await ReleaseOfflineBorrowAsync(lease.LeaseId, lease.ExpiresAt);
        return true;
    }

    Task<ServerView> IServerGrain.GetView() => Task.FromResult(new ServerView(
        _serverId, _code, Record.Allocated, _leases.InUse, Record.Threshold, Record.AppliedVersion,
        _leases.All.Select(ToLease).OrderBy(l => l.LeaseId, StringComparer.Ordinal).ToList(), _borrower.Borrows, _borrower.AdoptionCalls));

    Task<ServerUsage> IServerGrain.GetUsage() =>
        Task.FromResult(new ServerUsage(_serverId, Record.Allocated, _leases.InUse, _leases.Count, Record.AppliedVersion));

    async Task IServerGrain.ApplySync(DistributionSync sync)
    {
        if (_broken is not null) return;
        if (Apply(sync, rejoining: false))
        {
            try
            {
                await CommitAsync();
            }
            catch (Exception e)
            {
                LogCommitFailed(e, _serverId, _code);
            }
        }
    }

    async Task<int> IServerGrain.ExpireLeases()
    {
        ThrowIfBroken();
        var expired = RemoveExpired();
        if (expired > 0) await CommitAsync();
        return expired;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{ServerId} adopted lease {LeaseId} ({Count}) from {Origin}")]
    private partial void LogAdopted(string serverId, string leaseId, string origin, int count);
}
