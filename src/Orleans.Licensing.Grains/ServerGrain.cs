using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Placement;
using Orleans.Licensing.Usage;
using Orleans.Placement;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// One license server's part of one license code. It grants checkouts from its own allocations (claim 30), borrows
/// from the leader when usage passes its threshold (claims 2, 3, 31) and adopts the leases of clients in fail-over
/// mode (claim 13). Reentrant so that concurrent requests share one write: every state change is made synchronously
/// between awaits, and then awaited through <see cref="GroupCommit"/>.
/// </summary>
[ServerPlacement, Immovable, Reentrant]
public sealed partial class ServerGrain(
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    IServiceProvider services,
    IOptions<LicensingOptions> options,
    ILogger<ServerGrain> logger) : Grain, IServerGrain
{
    private const int RecentTransfersKept = 64;
    private const int LeaderAttempts = 4;
    private const int AdoptedAwayKept = 4096;

    private readonly LicensingOptions _options = options.Value;
    private readonly IUsageRecorder _usage = services.GetService<IUsageRecorder>() ?? NullUsageRecorder.Instance;
    private string _serverId = "";
    private string _code = "";
    private ServerRecord _record = new();
    private LeaseBook _leases = null!;
    private ServerJournal _journal = null!;
    private GroupCommit _commit = null!;
    private Task<int>? _borrowing;
    private AdoptionBatch _adoptions = null!;
    private int _borrows;
    private long _borrowsStarted;
    private long _borrowingNumber;
    private NoSourceVerdict? _noSource;
    private readonly HashSet<string> _adoptedAway = new(StringComparer.Ordinal);
    private int _adoptionCalls;
    private int _reportedInUse = -1;
    private DateTimeOffset _nextSyncCheck;
    private Exception? _broken;
    private bool _compactAll;
    private IGrainTimer _sweep = null!;
    private bool _sweepIdle;

    private ServerRecord Record => _record;
    /// <summary>Seats in use by leases, or bound to adoptions the leader may already have moved here.</summary>
    private int Bound => _leases.InUse + _adoptions.Seats;
    private int Room => Record.Allocated - Bound;
    private IPoolGrain Leader => GrainFactory.GetGrain<IPoolGrain>(_code);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_serverId, _code) = ServerGrainKey.Parse(this.GetPrimaryKeyString());

        // Placement is an affinity, not a pin: a stale directory entry could place us on another silo.
        if (!string.Equals(silo.Name, _serverId, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"ServerGrain of '{_serverId}' refused to activate on silo '{silo.Name}'.");
        }

        var storage = services.GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        try
        {
            (_record, _leases, _journal) = await ServerJournal.LoadAsync(storage, this.GetGrainId(), _options);
        }
        catch (Exception e)
        {
            StorageFailure.Throw(e);
        }

        _commit = new GroupCommit(WriteAsync);
        _adoptions = new AdoptionBatch(ReportAdoptionsAsync);

        // Sync from the leader before serving: it never counts a lease that was adopted elsewhere meanwhile.
        var sync = await Leader.Rejoin(_serverId, silo.SiloAddress.ToParsableString());
        if (sync is not null) Apply(sync, rejoining: true);
        _nextSyncCheck = DateTimeOffset.UtcNow + _options.SyncCheckInterval;
        var expired = RemoveExpired();
        if (expired > 0 || _leases.IsDirty)
        {
            try
            {
                await _commit.CommitAsync();
            }
            catch (Exception e)
            {
                StorageFailure.Throw(e);
            }
        }

        if (_leases.InUse > Record.Allocated) await ReconcileExcessAsync();

        _sweep = this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions(_options.SweepInterval, _options.SweepInterval) { Interleave = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A snapshot that covers the whole journal makes the next activation read no entries.
        if (_broken is not null || _journal is null || _journal.Sequence == _journal.Snapshot) return;
        try
        {
            _compactAll = true;
            await _commit.CommitAsync();
        }
        catch (Exception e)
        {
            LogCommitFailed(e, _serverId, _code);
        }
    }

    async Task<CheckoutResult> IServerGrain.Checkout(CheckoutRequest request)
    {
        using var timed = LicensingTelemetry.Checkout(_code, _serverId);
        var license = EnsureServing();
        Validate(request.LeaseId, request.ClientId, request.Count, license);
        if (_leases.TryGet(request.LeaseId, out var existing))
        {
            // A retried checkout: the same lease, granted once.
            EnsureSameHolder(existing, request.ClientId, request.Count);
            await CommitAsync();
            return new CheckoutResult(ToLease(existing), null);
        }

        while (Room < request.Count)
        {
            if (!await BorrowAsync(request.Count, BorrowReason.ClientRequest))
            {
                _usage.Denial(_code, _serverId, request.ClientId, request.Count, LicensingErrors.NoAllocation);
                return new CheckoutResult(null, $"No allocation of '{_code}' is available: {Record.Allocated} allocated here, {_leases.InUse} in use, and the leader found no source.");
            }
        }

        // Another checkout with this lease id may have been granted while this one waited for the leader.
        if (_leases.TryGet(request.LeaseId, out var raced))
        {
            EnsureSameHolder(raced, request.ClientId, request.Count);
            await CommitAsync();
            return new CheckoutResult(ToLease(raced), null);
        }

        var lease = new LeaseRecord(request.LeaseId, request.ClientId, request.Count, DateTimeOffset.UtcNow + _options.LeaseTtl);
        AddLease(lease);
        await CommitAsync();
        _usage.Lease(UsageKinds.Checkout, _code, _serverId, lease.LeaseId, lease.ClientId, lease.Count);
        return new CheckoutResult(ToLease(lease), null);
    }

    async Task<Lease> IServerGrain.Update(LeaseUpdate update)
    {
        var license = EnsureServing();
        Validate(update.LeaseId, update.ClientId, update.Count, license);
        var found = _leases.TryGet(update.LeaseId, out var held);
        if (found && update.ServerId == _serverId)
        {
            EnsureSameHolder(held!, update.ClientId, update.Count);
            var renewed = held! with { ExpiresAt = DateTimeOffset.UtcNow + _options.LeaseTtl };
            _leases.Put(renewed);
            await CommitAsync();
            _usage.Lease(UsageKinds.Heartbeat, _code, _serverId, renewed.LeaseId, renewed.ClientId, renewed.Count);
            return ToLease(renewed);
        }

        // This server held the lease and no longer does: it expired or was checked in. Re-granting it would let a late
        // heartbeat after a check-in hold a seat; the client hears that its lease is lost instead. Unless the leader
        // moved it to an adopter: that adoption may never have finished (the client heard no answer and came home),
        // and the leader decides.
        if (update.ServerId == _serverId && !_adoptedAway.Contains(update.LeaseId))
        {
            throw new LicensingException(LicensingErrors.LeaseUnknown, $"Lease '{update.LeaseId}' expired or was checked in at '{_serverId}'.");
        }

        // Fail-over mode (or failing back here with a copy this server has not dropped yet): the lease is adopted only
        // once the leader has checked it against the server that holds it and moved its seat.
        var adoption = new AdoptedLease(update.LeaseId, update.ServerId, DateTimeOffset.UtcNow + _options.LeaseTtl, null, update.ClientId, update.Count);
        string? refused;
        try
        {
            refused = await _adoptions.ReportAsync(adoption);
        }
        finally
        {
            // Its seats stay bound until here: no await between this and adding the lease when there is room.
            _adoptions.Settle(adoption);
        }

        if (refused == LicensingErrors.LeaseUnknown)
        {
            throw new LicensingException(LicensingErrors.LeaseUnknown, $"Server '{update.ServerId}' holds no lease '{update.LeaseId}' of '{_code}' for client '{update.ClientId}' with count {update.Count}.");
        }

        if (refused is not null)
        {
            throw new LicensingException(LicensingErrors.Unavailable, $"Lease '{update.LeaseId}' cannot be adopted yet: its server '{update.ServerId}' neither answers nor can be fenced. Retry.");
        }

        // A copy of our own from before the client failed over is stale: the leader moved its seat away then.
        _leases.Remove(update.LeaseId);
        while (Room < update.Count)
        {
            // The lease is the client's: without a seat for it yet the answer is "retry", never a refusal.
            if (!await BorrowAsync(update.Count, BorrowReason.FailoverUpdate))
            {
                throw new LicensingException(LicensingErrors.Unavailable, $"No allocation of '{_code}' is available yet to adopt lease '{update.LeaseId}'. Retry.");
            }
        }

        var adopted = new LeaseRecord(update.LeaseId, update.ClientId, update.Count, adoption.ExpiresAt);
        LogAdopted(_serverId, update.LeaseId, update.ServerId, update.Count);
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
        _leases.All.Select(ToLease).OrderBy(l => l.LeaseId, StringComparer.Ordinal).ToList(), _borrows, _adoptionCalls));

    Task<ServerUsage> IServerGrain.GetUsage() =>
        Task.FromResult(new ServerUsage(_serverId, Record.Allocated, _leases.InUse, _leases.Count, Record.AppliedVersion));

    async Task<TransferResult> IServerGrain.GiveUp(TransferRequest request)
    {
        ThrowIfBroken();
        if (Record.RecentTransfers.FirstOrDefault(t => t.OperationId == request.OperationId) is { } done) return done;

        // The leader's row is the truth when it is at least as new as ours (a raise may not have reached us yet).
        var allocated = request.LeaderVersion >= Record.AppliedVersion ? request.Share : Record.Allocated;
        var (given, unknown) = request.Mode == TransferMode.Leases ? DropMoved(request.Leases ?? []) : (GivableOf(request, allocated), []);
        var result = new TransferResult(request.OperationId, given, _leases.InUse, unknown);

        // Nothing given changes nothing: no write, and no version the leader may never commit.
        if (given == 0) return result;
        _record = Record with
        {
            Allocated = allocated - given,
            AppliedVersion = Math.Max(Record.AppliedVersion, request.NextVersion),
            RecentTransfers = [.. Record.RecentTransfers.TakeLast(RecentTransfersKept - 1), result],
        };

        // The giver's record shrinks, durably, before the leader lets the taker grow (claim 33).
        await CommitAsync();
        _usage.Pool(UsageKinds.GiveUp, _code, _serverId, given, request.Mode.ToString());
        return result;
    }

    private int GivableOf(TransferRequest request, int allocated)
    {
        var keep = request.Mode switch
        {
            TransferMode.Unused => Bound,
            TransferMode.Idle => Math.Max(Needed(Bound, Record.Threshold), Bound),
            _ => Math.Max(Math.Max(Record.BaseShare, Needed(Bound, Record.Threshold)), Bound),
        };
        return Math.Clamp(allocated - keep, 0, Math.Max(0, request.Count));
    }

    /// <summary>Drops the leases whose clients failed over elsewhere, if they are what the clients claim; returns their seats.</summary>
    private (int Given, IReadOnlyList<string> Unknown) DropMoved(IReadOnlyList<AdoptedLease> moved)
    {
        var given = 0;
        var unknown = new List<string>();
        var now = DateTimeOffset.UtcNow;
        foreach (var claim in moved)
        {
            if (_leases.TryGet(claim.LeaseId, out var lease) && lease.ClientId == claim.ClientId && lease.Count == claim.Count && lease.ExpiresAt > now)
            {
                _leases.Remove(lease.LeaseId);
                RememberAdoptedAway(lease.LeaseId);
                given += lease.Count;
            }
            else
            {
                unknown.Add(claim.LeaseId);
            }
        }

        return (given, unknown);
    }

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
        _usage.Admin(UsageKinds.CodeAdded, _code, _serverId, message.License?.Seats ?? 0, await Leader.AddLicenseCode(message));

    async Task<Distribution> IServerGrain.AddAllocations(AddAllocations message) =>
        _usage.Admin(UsageKinds.AllocationsAdded, _code, _serverId, message.Count, await Leader.AddAllocations(message));

    async Task<Distribution> IServerGrain.ChangeDistributionCriteria(ChangeDistributionCriteria message) =>
        _usage.Admin(UsageKinds.DistributionChanged, _code, _serverId, 0, await Leader.ChangeDistributionCriteria(message));

    /// <summary>Claim 2: usage / allocated above the threshold means too few allocations.</summary>
    internal static bool AboveThreshold(int inUse, int allocated, double threshold) =>
        allocated <= 0 ? inUse > 0 : (double)inUse / allocated > threshold;

    /// <summary>The fewest allocations that keep <paramref name="inUse"/> within the threshold.</summary>
    internal static int Needed(int inUse, double threshold) =>
        inUse <= 0 ? 0 : (int)Math.Ceiling(inUse / Math.Max(threshold, 0.01) - 1e-9);

    /// <summary>Claim 3: borrow as soon as usage passes the threshold, without making this request wait.</summary>
    private void BorrowEarlyIfAboveThreshold()
    {
        if (_borrowing is not null || !AboveThreshold(Bound, Record.Allocated, Record.Threshold)) return;
        _ = BorrowInBackgroundAsync();
    }

    private async Task BorrowInBackgroundAsync()
    {
        try
        {
            // Checkouts that came while a borrow was in flight did not start their own: look again after each one.
            for (var round = 0; round < 4 && AboveThreshold(Bound, Record.Allocated, Record.Threshold); round++)
            {
                if (!await BorrowAsync(0, BorrowReason.ClientRequest)) break;
            }
        }
        catch (Exception e)
        {
            LogBorrowFailed(e, _serverId, _code);
        }
    }

    /// <summary>
    /// Borrows enough for <paramref name="wanted"/> more allocations and to bring usage back within the threshold.
    /// Returns false only when a borrow that started after this caller arrived found no source (or, for a checkout,
    /// when the leader's last answer was "no source" and no newer distribution has arrived since: see NoSourceVerdict).
    /// One borrow at a time: callers that arrive while one is in flight share the next one, whose answer is fresh.
    /// </summary>
    private async Task<bool> BorrowAsync(int wanted, BorrowReason reason)
    {
        var arrived = _borrowsStarted;
        while (_borrowing is { } inFlight)
        {
            var started = _borrowingNumber;
            var granted = await inFlight;
            if (started > arrived) return granted > 0 || Room >= wanted;
            if (Room >= wanted) return true;
        }

        if (reason == BorrowReason.ClientRequest && _noSource is { } verdict && verdict.IsCurrent(Record.AppliedVersion, _options.DenialHold)) return false;
        var count = Shortfall(wanted);
        if (count == 0) return true;
        count = Math.Max(count, _options.MinBorrow);
        var number = ++_borrowsStarted;
        var borrow = RunBorrowAsync(count, reason);
        if (!borrow.IsCompleted)
        {
            _borrowing = borrow;
            _borrowingNumber = number;
        }

        return await borrow > 0;
    }

    /// <summary>Allocations missing for <paramref name="wanted"/> more in use, and to keep usage within the threshold (claim 2).</summary>
    private int Shortfall(int wanted)
    {
        var inUse = Bound + wanted;
        return Math.Max(Math.Max(inUse - Record.Allocated, Needed(inUse, Record.Threshold) - Record.Allocated), 0);
    }

    private async Task<int> RunBorrowAsync(int count, BorrowReason reason)
    {
        try
        {
            return await BorrowFromLeaderAsync(count, reason);
        }
        finally
        {
            // Before waiters resume: they must see that no borrow is in flight any more.
            _borrowing = null;
        }
    }

    private async Task<int> BorrowFromLeaderAsync(int count, BorrowReason reason)
    {
        using var span = LicensingTelemetry.Borrow(_code, count);
        var grant = await CallLeaderAsync(new BorrowRequest(Guid.NewGuid(), _serverId, count, reason, _leases.InUse));
        _usage.Borrowed(_code, _serverId, reason, grant.Sources);
        _borrows++;
        if (Apply(grant.Sync, rejoining: false)) await CommitAsync();
        _noSource = grant.Granted == 0 ? new NoSourceVerdict(Record.AppliedVersion, DateTimeOffset.UtcNow) : null;
        LogBorrowed(_serverId, _code, count, grant.Granted, reason);
        return grant.Granted;
    }

    private void RememberAdoptedAway(string leaseId)
    {
        if (_adoptedAway.Count >= AdoptedAwayKept) _adoptedAway.Clear();
        _adoptedAway.Add(leaseId);
    }

    /// <summary>
    /// Tells the leader of fail-over adoptions, borrowing what they need beyond this server's room in the same call.
    /// The leader always hears of an adoption, so the origin server never counts the lease again, even when we have room.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>?> ReportAdoptionsAsync(IReadOnlyList<AdoptedLease> adoptions)
    {
        // What the adoptions in flight (bound, among them these) need beyond our room, and (claim 2) what keeps usage
        // within the threshold after them.
        var grant = await CallLeaderAsync(new BorrowRequest(Guid.NewGuid(), _serverId, Shortfall(0), BorrowReason.FailoverUpdate, _leases.InUse, adoptions),
            until: adoptions.Max(a => a.ExpiresAt));
        _adoptionCalls++;
        _usage.Borrowed(_code, _serverId, BorrowReason.FailoverUpdate, grant.Sources);
        Apply(grant.Sync, rejoining: false);
        return grant.Refused;
    }

    /// <summary>
    /// Calls the leader, retrying with the same operation id while it moves to another silo: a few times, or, for a
    /// report of adoptions, until <paramref name="until"/>. The leader may have recorded those adoptions and moved their
    /// seats here before its answer was lost (its silo died), and a retry answers what it did; giving up sooner would
    /// unbind seats that a client's lease still needs, and a later retry of the client finds them taken.
    /// </summary>
    private async Task<BorrowGrant> CallLeaderAsync(BorrowRequest request, DateTimeOffset? until = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await Leader.Borrow(request);
            }
            catch (Exception e) when (until is { } deadline
                ? DateTimeOffset.UtcNow < deadline && (IsTransient(e) || e is LicensingException { Error: LicensingErrors.Unavailable })
                : attempt < LeaderAttempts && IsTransient(e))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * Math.Min(attempt, 5)));
            }
        }
    }

    private static bool IsTransient(Exception e) => e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException;

    /// <summary>Applies a distribution criteria sync. Returns whether the record or the leases changed.</summary>
    private bool Apply(DistributionSync sync, bool rejoining)
    {
        var changed = false;
        var distribution = sync.Distribution;
        if (!rejoining && distribution.Version > Record.AppliedVersion && distribution[_serverId]?.Status == ServerStatus.Down)
        {
            // The leader counts us down (fenced): what we hold may be counted elsewhere. Serve nothing more until
            // this grain reloads and rejoins.
            _broken ??= new LicensingException(LicensingErrors.Unavailable, "the leader counts this server down; it rejoins");
            DeactivateOnIdle();
            return false;
        }

        if (distribution.Version > Record.AppliedVersion || rejoining)
        {
            var row = distribution[_serverId];
            _record = Record with
            {
                Allocated = row?.Allocated ?? 0,
                Threshold = row?.Threshold ?? _options.DefaultThreshold,
                BaseShare = row?.BaseShare ?? 0,
                AppliedVersion = Math.Max(distribution.Version, Record.AppliedVersion),
                License = distribution.License,
            };
            changed = true;
        }

        foreach (var adopted in sync.Adopted)
        {
            // Held by another server now, even if it reached it through a third one: a lease is counted once.
            if (adopted.AdopterServerId is { } adopter && adopter != _serverId && _leases.Remove(adopted.LeaseId))
            {
                RememberAdoptedAway(adopted.LeaseId);
                LogDroppedAdopted(_serverId, adopted.LeaseId);
                changed = true;
                }
        }

        return changed;
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        if (_broken is not null) return;
        var changed = RemoveExpired() > 0;
        if (DateTimeOffset.UtcNow >= _nextSyncCheck)
        {
            _nextSyncCheck = DateTimeOffset.UtcNow + _options.SyncCheckInterval;
            if (await Leader.GetSyncSince(Record.AppliedVersion) is { } missed) changed |= Apply(missed, rejoining: false);
        }

        if (changed) await CommitAsync();
        if (_leases.InUse != _reportedInUse && Record.License is not null)
        {
            _reportedInUse = _leases.InUse;
            await Leader.ReportUsage(_serverId, _leases.InUse);
        }

        // A server with no leases has nothing to expire or report, and a sync it missed can only leave it with fewer
        // allocations than the leader counts (every decrease is its own give-up): it sleeps until its next lease. A
        // pool of 100,000 codes otherwise wakes 300,000 idle grains every few seconds.
        if (_leases.Count == 0 && (_reportedInUse == 0 || Record.License is null))
        {
            _sweep.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _sweepIdle = true;
        }
    }

    /// <summary>
    /// After rejoining, this server holds more leases than the leader gives it (it kept serving while counted down, or
    /// its clock runs behind the leader's): it borrows the difference, and drops what the leader cannot back, so it
    /// never renews leases beyond its allocation without the leader recording them.
    /// </summary>
    private async Task ReconcileExcessAsync()
    {
        LogOverAllocated(_serverId, _code, _leases.InUse, Record.Allocated);
        try
        {
            await BorrowFromLeaderAsync(_leases.InUse - Record.Allocated, BorrowReason.ClientRequest);
        }
        catch (Exception e)
        {
            LogBorrowFailed(e, _serverId, _code);
        }

        foreach (var lease in _leases.All.OrderBy(l => l.ExpiresAt).ToList())
        {
            if (_leases.InUse <= Record.Allocated) break;
            _leases.Remove(lease.LeaseId);
            _usage.Lease(UsageKinds.Expiry, _code, _serverId, lease.LeaseId, lease.ClientId, lease.Count, "unbacked");
            LogDroppedUnbacked(_serverId, lease.LeaseId, _code);
        }

        if (_leases.IsDirty)
        {
            try
            {
                await _commit.CommitAsync();
            }
            catch (Exception e)
            {
                StorageFailure.Throw(e);
            }
        }
    }

    /// <summary>A new lease (checked out or adopted): the sweep must run again, and usage may now call for a borrow.</summary>
    private void AddLease(LeaseRecord lease)
    {
        _leases.Put(lease);
        WakeSweep();
        BorrowEarlyIfAboveThreshold();
    }

    private void WakeSweep()
    {
        if (!_sweepIdle) return;
        _sweepIdle = false;
        _sweep.Change(_options.SweepInterval, _options.SweepInterval);
    }

    private int RemoveExpired()
    {
        var now = DateTimeOffset.UtcNow;
        var expired = _leases.All.Where(l => l.ExpiresAt <= now).ToList();
        foreach (var lease in expired)
        {
            _leases.Remove(lease.LeaseId);
            _usage.Lease(UsageKinds.Expiry, _code, _serverId, lease.LeaseId, lease.ClientId, lease.Count);
        }

        return expired.Count;
    }

    private async Task CommitAsync()
    {
        ThrowIfBroken();
        try
        {
            await _commit.CommitAsync();
        }
        catch (Exception e)
        {
            // What is in memory may now differ from storage (a stale activation, or a failed write): start over from storage.
            _broken ??= e;
            DeactivateOnIdle();
            StorageFailure.Throw(e);
        }
    }

    private async Task WriteAsync()
    {
        using var timed = LicensingTelemetry.StorageWrite(_code, _serverId);
        if (_leases.InUse > Record.Allocated) LogCommitOverAllocated(_serverId, _code, _leases.InUse, Record.Allocated, Record.AppliedVersion);
        else LogCommitting(_serverId, _code, Record.Allocated, _leases.InUse, Record.AppliedVersion);
        await _journal.AppendAsync(Record, _leases);
        if (_journal.ShouldCompact || (_compactAll && _journal.Sequence > _journal.Snapshot)) await _journal.CompactAsync(_leases);
    }

    private LicenseCode EnsureServing()
    {
        ThrowIfBroken();
        if (membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress) == SiloStatus.Dead)
        {
            throw new SiloUnavailableException($"License server '{_serverId}' has been declared dead.");
        }

        var license = Record.License ?? throw new LicensingException(LicensingErrors.UnknownLicense, $"License code '{_code}' is unknown.");
        if (license.IsExpired(DateTimeOffset.UtcNow))
        {
            throw new LicensingException(LicensingErrors.LicenseExpired, $"License code '{_code}' expired at {license.ExpiresAt:O}.");
        }

        return license;
    }

    private void ThrowIfBroken()
    {
        // A caller that retries reaches the fresh activation (or fails over to another server).
        if (_broken is not null) throw new LicensingException(LicensingErrors.Unavailable, $"License server '{_serverId}' is reloading '{_code}' from the license store after a failed write: {_broken.Message}");
    }

    private static void Validate(string leaseId, string clientId, int count, LicenseCode license)
    {
        if (string.IsNullOrWhiteSpace(leaseId) || leaseId.Length > 128)
            throw new LicensingException(LicensingErrors.InvalidRequest, "A lease id of 1 to 128 characters is required.");
        if (string.IsNullOrWhiteSpace(clientId) || clientId.Length > 256)
            throw new LicensingException(LicensingErrors.InvalidRequest, "A client id of 1 to 256 characters is required.");
        if (count < 1 || count > license.Seats)
            throw new LicensingException(LicensingErrors.InvalidRequest, $"Count must be between 1 and {license.Seats}, the seats of '{license.Code}'.");
    }

    private static void EnsureSameHolder(LeaseRecord lease, string clientId, int count)
    {
        if (lease.ClientId != clientId || lease.Count != count)
        {
            throw new LicensingException(LicensingErrors.Conflict, $"Lease '{lease.LeaseId}' is held by another client or with another count.");
        }
    }

    private Lease ToLease(LeaseRecord lease) => new(
        lease.LeaseId, _code, lease.ClientId, lease.Count, _serverId, lease.ExpiresAt,
        lease.ExpiresAt - _options.LeaseTtl + _options.LeaseTtl / 3);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{ServerId} asked the leader of {Code} for {Count} ({Reason}) and got {Granted}")]
    private partial void LogBorrowed(string serverId, string code, int count, int granted, BorrowReason reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ServerId} could not borrow for {Code}")]
    private partial void LogBorrowFailed(Exception e, string serverId, string code);

    [LoggerMessage(Level = LogLevel.Information, Message = "{ServerId} adopted lease {LeaseId} ({Count}) from {Origin}")]
    private partial void LogAdopted(string serverId, string leaseId, string origin, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "{ServerId} dropped lease {LeaseId}: it was adopted by another server")]
    private partial void LogDroppedAdopted(string serverId, string leaseId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ServerId} holds {InUse} allocations of {Code} in use but manages {Allocated}")]
    private partial void LogOverAllocated(string serverId, string code, int inUse, int allocated);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ServerId} dropped lease {LeaseId} of {Code}: the leader does not back it")]
    private partial void LogDroppedUnbacked(string serverId, string leaseId, string code);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{ServerId} commits {Code}: {Allocated} allocated, {InUse} in use, version {Version}")]
    private partial void LogCommitting(string serverId, string code, int allocated, int inUse, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ServerId} commits {Code} with {InUse} in use of {Allocated} allocated (version {Version})")]
    private partial void LogCommitOverAllocated(string serverId, string code, int inUse, int allocated, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ServerId} failed to commit {Code}; the grain restarts from storage")]
    private partial void LogCommitFailed(Exception e, string serverId, string code);
}
