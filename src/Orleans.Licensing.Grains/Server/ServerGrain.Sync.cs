using Orleans.Licensing.Usage;

namespace Orleans.Licensing;

/// <summary>
/// How a server follows the leader: it applies distribution criteria syncs (<see cref="SyncRule"/>), asks for one it
/// may have missed, reports its usage, and after a rejoin gives up what the leader does not back.
/// </summary>
public sealed partial class ServerGrain
{
    /// <summary>Applies a distribution criteria sync (<see cref="SyncRule"/>). Returns whether the record or the leases changed.</summary>
    private bool Apply(DistributionSync sync, bool rejoining)
    {
        var distribution = sync.Distribution;
        var applied = Record.AppliedVersion;
        if (SyncRule.CountsUsDown(distribution, _serverId, applied, rejoining))
        {
            _broken ??= new LicensingException(LicensingErrors.Unavailable, "the leader counts this server down; it rejoins");
            DeactivateOnIdle();
            return false;
        }

        var changed = false;
        if (SyncRule.TakesRow(distribution.Version, applied, rejoining))
        {
            var row = distribution[_serverId];
            _record = Record with
            {
                Allocated = row?.Allocated ?? 0,
                // A give-up answered before this row is either counted in it (its borrow is recorded, never retried)
                // or was lost with a failed leader write and given back by it: replaying its answer would count it twice.
                RecentGiveUps = [],
                Threshold = row?.Threshold ?? _options.DefaultThreshold,
                BaseShare = row?.BaseShare ?? 0,
                AppliedVersion = Math.Max(distribution.Version, Record.AppliedVersion),
                License = distribution.License,
            };
            _linger = distribution.OfflineBorrow?.Policy.Linger ?? _linger;
            changed = true;
        }

        if (!SyncRule.TakesAdoptions(distribution.Version, applied, rejoining)) return changed;
        var moved = new List<string>();
        foreach (var adopted in sync.Adopted)
        {
            // Held by another server now, even if it reached it through a third one: a lease is counted once.
            if (adopted.AdopterServerId is { } adopter && adopter != _serverId && _leases.Remove(adopted.LeaseId))
            {
                moved.Add(adopted.LeaseId);
                LogDroppedAdopted(_serverId, adopted.LeaseId);
            }
        }

        changed |= DropReturnedOfflineBorrows(sync.ReturnedOfflineBorrows);
        if (moved.Count == 0) return changed;
        var now = DateTimeOffset.UtcNow;
        _record = Record with { MovedAway = MovedAway.Add(Record.MovedAway, moved, now + _options.LeaseTtl, now) };
        return true;
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
            await _borrower.BorrowFromLeaderAsync(_leases.InUse - Record.Allocated, BorrowReason.ClientRequest);
        }
        catch (Exception e)
        {
            _borrower.LogBorrowFailed(e, _serverId, _code);
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
                StorageFailure.Throw(e, logger);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{ServerId} dropped lease {LeaseId}: it was adopted by another server")]
    private partial void LogDroppedAdopted(string serverId, string leaseId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ServerId} holds {InUse} allocations of {Code} in use but manages {Allocated}")]
    private partial void LogOverAllocated(string serverId, string code, int inUse, int allocated);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ServerId} dropped lease {LeaseId} of {Code}: the leader does not back it")]
    private partial void LogDroppedUnbacked(string serverId, string leaseId, string code);
}
