using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Usage;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// A server grain's state and its one commit and one sync: activation (load, rejoin), the distribution criteria
/// sync, the sweep, and the group commit through the journal. A failed write breaks the activation for good: nothing
/// in memory is trusted any more, no later commit succeeds, and the grain reloads from storage.
/// </summary>
public sealed partial class ServerGrain
{
    private string _serverId = "";
    private string _code = "";
    private ServerRecord _record = new();
    private LeaseBook _leases = null!;
    private ServerJournal _journal = null!;
    private GroupCommit _commit = null!;
    private AdoptionBatch _adoptions = null!;
    private Borrower _borrower = null!;
    private int _reportedInUse = -1;
    private DateTimeOffset _nextSyncCheck;
    private Exception? _broken;
    private bool _compactAll;
    private IGrainTimer _sweep = null!;
    private bool _sweepIdle;

    private ServerRecord Record => _record;

    /// <summary>Seats in use by leases, or bound to adoptions the leader may already have moved here.</summary>
    private int Bound => _leases.InUse + _adoptions.Seats;

    private IPoolGrain Leader => GrainFactory.GetGrain<IPoolGrain>(_code);

    public int Room => SeatMath.Room(Record.Allocated, Bound);

    int IBorrowingServer.InUse => _leases.InUse;

    long IBorrowingServer.AppliedVersion => Record.AppliedVersion;

    bool IBorrowingServer.AboveThreshold => SeatMath.AboveThreshold(Bound, Record.Allocated, Record.Threshold);

    int IBorrowingServer.Shortfall(int wanted) => SeatMath.Shortfall(Bound, Record.Allocated, Record.Threshold, wanted);

    bool IBorrowingServer.Apply(DistributionSync sync) => Apply(sync, rejoining: false);

    Task IBorrowingServer.CommitAsync() => CommitAsync();

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
            StorageFailure.Throw(e, logger);
        }

        _commit = new GroupCommit(WriteAsync);
        _borrower = new Borrower(this, () => Leader, _serverId, _code, _options, _usage, logger);
        _adoptions = new AdoptionBatch(_borrower.ReportAdoptionsAsync);

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
                StorageFailure.Throw(e, logger);
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

    /// <summary>A new lease (checked out or adopted): the sweep must run again, and usage may now call for a borrow.</summary>
    private void AddLease(LeaseRecord lease)
    {
        _leases.Put(lease);
        if (_sweepIdle)
        {
            _sweepIdle = false;
            _sweep.Change(_options.SweepInterval, _options.SweepInterval);
        }

        _borrower.BorrowEarlyIfAboveThreshold();
    }

    private int RemoveExpired()
    {
        var now = DateTimeOffset.UtcNow;
        _released.Sweep(now);
        foreach (var id in _expired.Where(e => e.Value.ExpiresAt + _options.LeaseTtl <= now).Select(e => e.Key).ToList()) _expired.Remove(id);
        foreach (var (id, reserved) in _reserved.Where(r => r.Value.ExpiresAt <= now).ToList())
        {
            _reserved.Remove(id);
            _adoptions.Settle(reserved);
        }

        var expired = _leases.All.Where(l => l.ExpiresAt <= now).ToList();
        foreach (var lease in expired)
        {
            _leases.Remove(lease.LeaseId);
            _expired[lease.LeaseId] = lease;
            _usage.Lease(UsageKinds.Expiry, _code, _serverId, lease.LeaseId, lease.ClientId, lease.Count, lease.Borrowed ? "offline borrow ended" : lease.Lingering ? LingerRule.EndedDetail : null);
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
            DeactivateOnIdle();
            StorageFailure.Throw(e, logger);
        }
    }

    /// <summary>
    /// One write of the group commit. A failed write took the changes it carried out of the lease book, so a later write
    /// would not carry them: the activation is broken from here on, and every later commit fails, so that no request
    /// is acknowledged on a change that was never written (a retried checkout of a lease whose write failed, say).
    /// </summary>
    private async Task WriteAsync()
    {
        ThrowIfBroken();
        using var timed = LicensingTelemetry.StorageWrite(_code, _serverId);
        if (_leases.InUse > Record.Allocated) LogCommitOverAllocated(_serverId, _code, _leases.InUse, Record.Allocated, Record.AppliedVersion);
        else LogCommitting(_serverId, _code, Record.Allocated, _leases.InUse, Record.AppliedVersion);
        try
        {
            await _journal.AppendAsync(Record, _leases);
            if (_journal.ShouldCompact || (_compactAll && _journal.Sequence > _journal.Snapshot)) await _journal.CompactAsync(_leases);
        }
        catch (Exception e)
        {
            // Set here, before any later write of the group commit runs (the caller deactivates the grain).
            _broken ??= e;
            throw;
        }
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
        if (_broken is not null) throw new LicensingException(LicensingErrors.Unavailable, $"License server '{_serverId}' is reloading '{_code}' from the license store after a failed write.");
    }

    // An offline borrow is never renewed: "renew after" is its end.
    private Lease ToLease(LeaseRecord lease) => new(
        lease.LeaseId, _code, lease.ClientId, lease.Count, _serverId, lease.ExpiresAt,
        lease.Borrowed || lease.Lingering ? lease.ExpiresAt : lease.ExpiresAt - _options.LeaseTtl + _options.LeaseTtl / 3, lease.Owner, lease.CheckedOutAt) { Borrowed = lease.Borrowed, Lingering = lease.Lingering };

    [LoggerMessage(Level = LogLevel.Debug, Message = "{ServerId} commits {Code}: {Allocated} allocated, {InUse} in use, version {Version}")]
    private partial void LogCommitting(string serverId, string code, int allocated, int inUse, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ServerId} commits {Code} with {InUse} in use of {Allocated} allocated (version {Version})")]
    private partial void LogCommitOverAllocated(string serverId, string code, int inUse, int allocated, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ServerId} failed to commit {Code}; the grain restarts from storage")]
    private partial void LogCommitFailed(Exception e, string serverId, string code);
}
