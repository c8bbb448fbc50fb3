namespace Orleans.Licensing;

/// <summary>
/// The leader's steps that ask live servers (give-ups, the check of fail-over adoptions) around the pure arithmetic of
/// <see cref="PoolTable"/>. Give-ups of a borrow carry ids derived from its operation id, so a borrow retried after a
/// failed write hears what each server did the first time.
/// </summary>
public sealed partial class PoolGrain
{
    /// <summary>Takes up to <paramref name="need"/> allocations from the sources, in the order of the borrow's reason. Returns how many.</summary>
    private async Task<int> FindSourcesAsync(BorrowRequest request, int need, List<BorrowSource> sources)
    {
        var now = DateTimeOffset.UtcNow;
        var found = 0;
        foreach (var kind in SourceOrder.For(request.Reason))
        {
            var left = need - found;
            if (left <= 0) break;
            found += kind switch
            {
                SourceKind.FreePool => Table.TakeFromFreePool(left, sources),
                SourceKind.DownServer => TakeFromDownServers(left, request.ServerId, now, sources),
                SourceKind.LeaderServer => await TakeFromLeaderServerAsync(left, request, sources),
                _ => await TakeFromLiveServersAsync(left, request, sources, SourceOrder.LiveServerMode(request.Reason)),
            };
        }

        return found;
    }

    private int TakeFromDownServers(int need, string takerId, DateTimeOffset now, List<BorrowSource> sources)
    {
        var before = sources.Count;
        var taken = Table.TakeFromDownServers(need, takerId, now, sources);
        foreach (var source in sources.Skip(before)) LogTookFromDown(Code, source.Count, source.ServerId!, takerId);
        return taken;
    }

    private async Task<int> TakeFromLeaderServerAsync(int need, BorrowRequest request, List<BorrowSource> sources)
    {
        if (request.ServerId == LeaderServerId || Table.Share(LeaderServerId) is { Down: true } or { Allocated: 0 }) return 0;
        var given = await _giveUps.AskAsync(LeaderServerId, Table.Share(LeaderServerId), need, GiveUpMode.Unused, S.Version,
            OperationIds.GiveUp(request.OperationId, LeaderServerId, GiveUpMode.Unused));
        if (given > 0) sources.Add(new BorrowSource(SourceKind.LeaderServer, LeaderServerId, given));
        return given;
    }

    private async Task<int> TakeFromLiveServersAsync(int need, BorrowRequest request, List<BorrowSource> sources, GiveUpMode mode)
    {
        var taken = 0;
        foreach (var serverId in Table.LiveGivers(request.ServerId, LeaderServerId))
        {
            if (taken >= need) break;
            var given = await _giveUps.AskAsync(serverId, Table.Share(serverId), need - taken, mode, S.Version, OperationIds.GiveUp(request.OperationId, serverId, mode));
            if (given > 0) sources.Add(new BorrowSource(SourceKind.LiveServer, serverId, given));
            taken += given;
        }

        return taken;
    }

    /// <summary>
    /// Moves up to <paramref name="count"/> of a server's allocations to the free pool: a down server's unused ones at
    /// once, a live server's only as far as it gives them up. Returns how many moved.
    /// </summary>
    private async Task<int> ToFreePoolAsync(string serverId, ShareState share, int count, GiveUpMode mode, DateTimeOffset now)
    {
        if (share.Down) return Table.DownToFreePool(share, count, now);
        var given = await _giveUps.AskAsync(serverId, share, count, mode, S.Version, Guid.NewGuid());
        Table.ToFreePool(given);
        return given;
    }

    /// <summary>New criteria (claim 7): shrink first (a live server only gives what is unused), then fill from the free pool.</summary>
    private async Task ApplyCriteriaAsync(DistributionCriteria criteria)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var (serverId, excess) in Table.ApplyCriteria(criteria))
        {
            await ToFreePoolAsync(serverId, Table.Share(serverId), excess, GiveUpMode.Unused, now);
        }

        Table.FillToBaseShares(upOnly: false);
    }

    /// <summary>Claim 32: idle surplus goes back to the free pool, which then refills functioning servers below their base share.</summary>
    private async Task<int> RedistributeAsync()
    {
        var changed = await RefreshStatusAsync();
        var now = DateTimeOffset.UtcNow;
        var moved = 0;
        foreach (var (serverId, share) in S.Servers.OrderBy(s => s.Key, StringComparer.Ordinal).ToList())
        {
            var surplus = PoolTable.Surplus(share, now);
            if (surplus > 0) moved += await ToFreePoolAsync(serverId, share, surplus, GiveUpMode.Surplus, now);
        }

        changed |= Table.FillToBaseShares(upOnly: true);
        if (moved > 0 || changed) await CommitAndSyncAsync();
        if (moved > 0) LogRedistributed(Code, moved);
        return moved;
    }

    /// <summary>
    /// Fail-over adoptions (claims 13, 27), as <see cref="AdoptionCheck"/> decides them. A live holder drops the leases
    /// and gives their seats to the free pool; a holder that does not answer is fenced first (it may be paused, not
    /// dead) and then checked as down. Returns whether the distribution changed.
    /// </summary>
    private async Task<bool> AdoptAsync(BorrowRequest request, Dictionary<string, string> refused)
    {
        var changed = false;
        var adopterId = request.ServerId;

        // An offline borrow is never heartbeated, so it never fails over: its seat stays where the leader holds it.
        var now0 = DateTimeOffset.UtcNow;
        foreach (var borrowed in (request.Adoptions ?? []).Where(a => OfflineBorrowBook.IsBorrowed(S.OfflineBorrows, a.LeaseId, now0))) refused[borrowed.LeaseId] = LicensingErrors.LeaseUnknown;
        var adoptions = (request.Adoptions ?? []).Where(a => !refused.ContainsKey(a.LeaseId)).ToList();
        foreach (var claims in AdoptionCheck.ByHolder(adoptions, S.Adoptions, adopterId))
        {
            if (claims.HolderId == adopterId || !S.Servers.TryGetValue(claims.HolderId, out var holder))
            {
                foreach (var lease in claims.Leases) refused[lease.LeaseId] = LicensingErrors.LeaseUnknown;
                continue;
            }

            if (!holder.Down)
            {
                var transfer = new GiveUpRequest(OperationIds.GiveUp(request.OperationId, claims.HolderId, GiveUpMode.Leases),
                    claims.Leases.Sum(l => l.Count), GiveUpMode.Leases, S.Version, holder.Allocated, S.Version + 1, claims.Leases);
                if (await _giveUps.SendAsync(claims.HolderId, holder, transfer) is { } released)
                {
                    Table.ToFreePool(released.Given);
                    changed |= released.Given > 0;
                    var unknown = (released.Unknown ?? []).ToHashSet(StringComparer.Ordinal);
                    foreach (var lease in claims.Leases)
                    {
                        if (AdoptionCheck.AtLiveHolder(lease.LeaseId, unknown, claims.Unfinished) == AdoptionCheck.Verdict.Unknown) refused[lease.LeaseId] = LicensingErrors.LeaseUnknown;
                        else Table.RecordAdoption(lease, claims.HolderId, adopterId, DateTimeOffset.UtcNow, _options.LeaseTtl);
                    }

                    continue;
                }

                changed |= await _fencing.FenceAsync(claims.HolderId, holder, S.Adoptions, S.OfflineBorrows);
            }

            var now = DateTimeOffset.UtcNow;
            foreach (var lease in claims.Leases)
            {
                switch (AdoptionCheck.AtSilentHolder(holder, lease, claims.Unfinished.Contains(lease.LeaseId), now))
                {
                    case AdoptionCheck.Verdict.Retry:
                        refused[lease.LeaseId] = LicensingErrors.Unavailable;
                        break;
                    case AdoptionCheck.Verdict.Unknown:
                        refused[lease.LeaseId] = LicensingErrors.LeaseUnknown;
                        break;
                    case AdoptionCheck.Verdict.AdoptHeld:
                        // Its seat at the down holder is unused from here on: a source for this very borrow.
                        holder.Held.Remove(lease.LeaseId);
                        Table.RecordAdoption(lease, claims.HolderId, adopterId, now, _options.LeaseTtl);
                        changed = true;
                        break;
                    default:
                        Table.RecordAdoption(lease, claims.HolderId, adopterId, now, _options.LeaseTtl);
                        changed = true;
                        break;
                }
            }
        }

        return changed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: took {Take} from down server {ServerId} for {Taker}")]
    private partial void LogTookFromDown(string code, int take, string serverId, string taker);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: re-distributed {Moved} idle allocations to the free pool")]
    private partial void LogRedistributed(string code, int moved);
}
