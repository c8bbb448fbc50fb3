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
        if (_leases.TryGet(request.LeaseId, out var existing))
        {
            // A retried checkout: the same lease, granted once (and only once it is durable).
            LicenseRules.EnsureSameHolder(existing, request.ClientId, request.Count);
            await CommitAsync();
            return new CheckoutResult(ToLease(existing), null);
        }

        if (OverCap(request) is { } capped) return capped;
        while (Room < request.Count)
        {
            if (!await _borrower.BorrowAsync(request.Count, BorrowReason.ClientRequest))
            {
                _usage.Denial(_code, _serverId, request.ClientId, request.Count, LicensingErrors.NoAllocation);
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
        if (OverCap(request) is { } late) return late;
        var lease = new LeaseRecord(request.LeaseId, request.ClientId, request.Count, DateTimeOffset.UtcNow + _options.LeaseTtl);
        AddLease(lease);
        await CommitAsync();
        _usage.Lease(UsageKinds.Checkout, _code, _serverId, lease.LeaseId, lease.ClientId, lease.Count);
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
        if (update.ServerId == _serverId && _leases.TryGet(update.LeaseId, out var held))
        {
            LicenseRules.EnsureSameHolder(held, update.ClientId, update.Count);
            var renewed = held with { ExpiresAt = DateTimeOffset.UtcNow + _options.LeaseTtl };
            _leases.Put(renewed);
            await CommitAsync();
            _usage.Lease(UsageKinds.Heartbeat, _code, _serverId, renewed.LeaseId, renewed.ClientId, renewed.Count);
            return ToLease(renewed);
        }

        // This server held the lease and no longer does: it expired or was checked in. Re-granting it would let a late
        // heartbeat after a check-in hold a seat; the client hears that its lease is lost instead. Unless the leader
        // moved it to an adopter: that adoption may never have finished (the client heard no answer and came home),
        // and the leader decides.
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
        // failed over is stale: the leader moved its seat away then.
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

        var adopted = new LeaseRecord(update.LeaseId, update.ClientId, update.Count, adoption.ExpiresAt);
        LogAdopted(_serverId, update.LeaseId, update.ServerId, update.Count);
        _adoptions.Settle(adoption);
        AddLease(adopted);
        await CommitAsync();
        _usage.Lease(UsageKinds.Adoption, _code, _serverId, adopted.LeaseId, adopted.ClientId, adopted.Count, update.ServerId);
        return ToLease(adopted);
    }

    async Task<bool> IServerGrain.Checkin(string leaseId, string clientId)
    {
        ThrowIfBroken();
        if (string.IsNullOrEmpty(leaseId) || !_leases.TryGet(leaseId, out var lease) || lease.ClientId != clientId) return false;
        _leases.Remove(leaseId);
        await CommitAsync();
        _usage.Lease(UsageKinds.Checkin, _code, _serverId, lease.LeaseId, lease.ClientId, lease.Count);
        return true;
    }

    Task<ServerView> IServerGrain.GetView() => Task.FromResult(new ServerView(
        _serverId, _code, Record.Allocated, _leases.InUse, Record.Threshold, Record.AppliedVersion,
        _leases.All.Select(ToLease).OrderBy(l => l.LeaseId, StringComparer.Ordinal).ToList(), _borrower.Borrows, _borrower.AdoptionCalls));

    Task<ServerUsage> IServerGrain.GetUsage() =>
        Task.FromResult(new ServerUsage(_serverId, Record.Allocated, _leases.InUse, _leases.Count, Record.AppliedVersion));

    async Task<GiveUpResult> IServerGrain.GiveUp(GiveUpRequest request)
    {
        ThrowIfBroken();
        if (Record.RecentGiveUps.FirstOrDefault(t => t.OperationId == request.OperationId) is { } done) return done;

        var allocated = SyncRule.AllocatedForGiveUp(request, Record.Allocated, Record.AppliedVersion);
        var now = DateTimeOffset.UtcNow;
        var (given, unknown, moved) = request.Mode == GiveUpMode.Leases
            ? DropMoved(request.Leases ?? [], allocated, now)
            : (SeatMath.Givable(request.Mode, allocated, Bound, Record.Threshold, Record.BaseShare, request.Count), [], []);
        var result = new GiveUpResult(request.OperationId, given, _leases.InUse, unknown);

        // Nothing given changes nothing: no write, and no version the leader may never commit.
        if (given == 0) return result;
        _record = Record with
        {
            Allocated = allocated - given,
            AppliedVersion = SyncRule.VersionAfterGiveUp(Record.AppliedVersion, request),
            RecentGiveUps = [.. Record.RecentGiveUps.TakeLast(RecentGiveUpsKept - 1), result],
            MovedAway = moved.Count > 0 ? MovedAway.Add(Record.MovedAway, moved, now + _options.LeaseTtl, now) : Record.MovedAway,
        };

        // The giver's record shrinks, durably, before the leader lets the taker grow (claim 33).
        await CommitAsync();
        _usage.Pool(UsageKinds.GiveUp, _code, _serverId, given, request.Mode.ToString());
        return result;
    }

    /// <summary>
    /// Drops the leases whose clients failed over elsewhere, if they are what the clients claim; returns their seats. A
    /// claim is judged as of its arrival at the adopter, not of now: it may have waited behind a slow leader turn, and a
    /// lease that was live then stays its client's. One that expired here meanwhile gives no seat (its seat was freed
    /// at expiry), and the adopter borrows one.
    /// </summary>
    private (int Given, IReadOnlyList<string> Unknown, IReadOnlyList<string> Moved) DropMoved(IReadOnlyList<AdoptedLease> claims, int allocated, DateTimeOffset now)
    {
        var given = 0;
        var unknown = new List<string>();
        var moved = new List<string>();
        foreach (var claim in claims)
        {
            var arrived = claim.ExpiresAt - _options.LeaseTtl;
            if (_leases.TryGet(claim.LeaseId, out var lease) && Claims(lease, claim, arrived))
            {
                _leases.Remove(lease.LeaseId);
                moved.Add(lease.LeaseId);
                given += lease.Count;
            }
            else if (_expired.TryGetValue(claim.LeaseId, out var gone) && Claims(gone, claim, arrived))
            {
                _expired.Remove(claim.LeaseId);
                moved.Add(claim.LeaseId);
            }
            else if (MovedAway.Contains(Record.MovedAway, claim.LeaseId, now))
            {
                // Dropped by a give-up whose answer a newer row voided: the row gave its seat back to us; it goes with
                // the lease as far as it is still unused here.
                moved.Add(claim.LeaseId);
                given += Math.Clamp(allocated - _leases.InUse - given, 0, claim.Count);
            }
            else
            {
                unknown.Add(claim.LeaseId);
            }
        }

        return (given, unknown, moved);
    }

    private static bool Claims(LeaseRecord lease, AdoptedLease claim, DateTimeOffset arrived) =>
        lease.ClientId == claim.ClientId && lease.Count == claim.Count && lease.ExpiresAt > arrived;

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

    // Admin changes are logged here, where the REST layer sends them, once the leader has made them durable.
    async Task<Distribution> IServerGrain.AddLicenseCode(AddLicenseCode message) =>
        Added(UsageKinds.CodeAdded, message.Grant, await Leader.AddLicenseCode(message));

    async Task<Distribution> IServerGrain.AddAllocations(AddAllocations message) =>
        Added(UsageKinds.AllocationsAdded, message.Grant, await Leader.AddAllocations(message));

    /// <summary>The leader accepted the grant (it verified it): log the seats it added and its grant id.</summary>
    private Distribution Added(string kind, string grant, Distribution answer)
    {
        var applied = Orleans.Licensing.Grants.GrantCodec.Decode(grant);
        LogGrantApplied(_code, applied.GrantId, applied.Seats ?? applied.Count ?? 0);
        return _usage.Admin(kind, _code, _serverId, applied.Seats ?? applied.Count ?? 0, answer);
    }

    async Task<Distribution> IServerGrain.ChangeDistributionCriteria(ChangeDistributionCriteria message) =>
        _usage.Admin(UsageKinds.DistributionChanged, _code, _serverId, 0, await Leader.ChangeDistributionCriteria(message));

    [LoggerMessage(Level = LogLevel.Information, Message = "{ServerId} adopted lease {LeaseId} ({Count}) from {Origin}")]
    private partial void LogAdopted(string serverId, string leaseId, string origin, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: grant {GrantId} applied ({Seats} seats)")]
    private partial void LogGrantApplied(string code, string grantId, int seats);
}
