namespace Orleans.Licensing;

/// <summary>
/// The arithmetic of the leader's table (claims 5, 7, 14, 19, 32), pure: the caller passes the time and does the calls
/// to live servers. Every method keeps Σ allocated + free pool = total.
/// </summary>
internal sealed class PoolTable(PoolState state, double defaultThreshold)
{
    public PoolState State => state;

    /// <summary>A server's row, created (with no allocations) the first time the server is named.</summary>
    public ShareState Share(string serverId)
    {
        if (!state.Servers.TryGetValue(serverId, out var share))
        {
            share = new ShareState { Threshold = DistributionPlanner.ThresholdOf(state.Criteria, serverId, defaultThreshold) };
            state.Servers[serverId] = share;
        }

        return share;
    }

    /// <summary>A new license code: every seat starts in the free pool.</summary>
    public void AddLicense(LicenseCode license, string grantId)
    {
        state.License = license;
        state.Total = license.Seats;
        state.FreePool = license.Seats;
        state.AppliedGrants.Add(grantId);
    }

    /// <summary>More seats of a signed allocations grant: into the free pool. A code with trial seats is a trial code.</summary>
    public void AddSeats(int count, string grantId, bool trial = false)
    {
        state.AppliedGrants.Add(grantId);
        state.Total += count;
        state.FreePool += count;
        state.License = state.License! with { Seats = state.Total, Trial = state.License.Trial || trial };
    }

    public int TakeFromFreePool(int need, List<BorrowSource> sources)
    {
        var take = Math.Min(need, state.FreePool);
        if (take <= 0) return 0;
        state.FreePool -= take;
        sources.Add(new BorrowSource(SourceKind.FreePool, null, take));
        return take;
    }

    /// <summary>A down server's allocations that back no lease its clients may still fail over with (claims 5, 14).</summary>
    public int TakeFromDownServers(int need, string takerId, DateTimeOffset now, List<BorrowSource> sources)
    {
        var taken = 0;
        foreach (var (serverId, share) in state.Servers.Where(s => s.Value.Down && s.Key != takerId).OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var take = Math.Min(need - taken, share.DownUnused(now));
            if (take <= 0) continue;
            share.Allocated -= take;
            taken += take;
            sources.Add(new BorrowSource(SourceKind.DownServer, serverId, take));
        }

        return taken;
    }

    /// <summary>Live servers other than the taker and the leader server, the most unused first: asked to give up in turn.</summary>
    public IReadOnlyList<string> LiveGivers(string takerId, string leaderServerId) => [.. state.Servers
        .Where(s => !s.Value.Down && s.Key != takerId && s.Key != leaderServerId && s.Value.Allocated > 0)
        .OrderByDescending(s => s.Value.Allocated - s.Value.InUse).ThenBy(s => s.Key, StringComparer.Ordinal)
        .Select(s => s.Key)];

    /// <summary>Moves up to <paramref name="count"/> of a down server's unused allocations to the free pool.</summary>
    public int DownToFreePool(ShareState share, int count, DateTimeOffset now)
    {
        var given = Math.Min(count, share.DownUnused(now));
        share.Allocated -= given;
        state.FreePool += given;
        return given;
    }

    /// <summary>A live server gave allocations up to the free pool (the give-up already shrank its row).</summary>
    public void ToFreePool(int given) => state.FreePool += given;

    /// <summary>
    /// New criteria (claim 7): every server's base share and threshold. Returns each server's allocations beyond its
    /// base share, to be given back before the free pool fills the others.
    /// </summary>
    public IReadOnlyList<(string ServerId, int Excess)> ApplyCriteria(DistributionCriteria criteria)
    {
        var up = state.Servers.Where(s => !s.Value.Down).Select(s => s.Key).OrderBy(s => s, StringComparer.Ordinal).ToList();
        var targets = DistributionPlanner.Targets(criteria, state.Total, state.Servers.Keys.ToList(), up);
        state.Criteria = criteria;
        var excess = new List<(string, int)>();
        foreach (var (serverId, target) in targets.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var share = Share(serverId);
            share.BaseShare = target;
            share.Threshold = DistributionPlanner.ThresholdOf(criteria, serverId, defaultThreshold);
            if (share.Allocated > target) excess.Add((serverId, share.Allocated - target));
        }

        return excess;
    }

    /// <summary>The free pool fills servers below their base share, in server id order. Returns whether anything moved.</summary>
    public bool FillToBaseShares(bool upOnly)
    {
        var moved = false;
        foreach (var (_, share) in state.Servers.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (upOnly && share.Down) continue;
            var add = Math.Min(Math.Max(0, share.BaseShare - share.Allocated), state.FreePool);
            share.Allocated += add;
            state.FreePool -= add;
            moved |= add > 0;
        }

        return moved;
    }

    /// <summary>Idle surplus (claim 32): a live server's allocations above its base share, a down server's unused ones.</summary>
    public static int Surplus(ShareState share, DateTimeOffset now) => share.Down ? share.DownUnused(now) : share.Allocated - share.BaseShare;

    /// <summary>The lease is its adopter's now, until it would expire on the leader's clock (no other silo's).</summary>
    public void RecordAdoption(AdoptedLease lease, string holderId, string adopterId, DateTimeOffset now, TimeSpan ttl) =>
        state.Adoptions[lease.LeaseId] = new Adoption(holderId, adopterId, now + ttl, lease.ClientId, lease.Count);

    /// <summary>Forgets adoptions and held leases whose clients can no longer renew them, and offline borrows that ended.</summary>
    public void Prune(DateTimeOffset now)
    {
        OfflineBorrowBook.Prune(state.OfflineBorrows, now);
        foreach (var id in state.Adoptions.Where(a => a.Value.ExpiresAt <= now).Select(a => a.Key).ToList()) state.Adoptions.Remove(id);
        foreach (var share in state.Servers.Values)
        {
            foreach (var id in share.Held.Where(h => h.Value.ExpiresAt <= now).Select(h => h.Key).ToList()) share.Held.Remove(id);
        }
    }

    public IReadOnlyList<AdoptedLease> ActiveAdoptions() =>
        [.. state.Adoptions.Select(a => new AdoptedLease(a.Key, a.Value.OriginServerId, a.Value.ExpiresAt, a.Value.AdopterServerId))];

    /// <summary>The distribution as the table holds it now.</summary>
    public Distribution Snapshot(DateTimeOffset now, string leaderServerId) => new(
        state.License!, state.Total, state.FreePool, state.Version,
        [.. state.Servers.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new ServerShare(
            s.Key, s.Value.Allocated, s.Value.InUse, s.Value.Threshold, s.Value.BaseShare,
            s.Value.Down ? ServerStatus.Down : ServerStatus.Up, s.Value.Down ? s.Value.HeldCount(now) : 0))],
        leaderServerId)
    {
        OfflineBorrow = new OfflineBorrowView(state.OfflineBorrows.Policy, OfflineBorrowBook.Borrowed(state.OfflineBorrows, now)),
    };

    /// <summary>A refused adoption borrows nothing: a made-up lease id must not act as a checkout.</summary>
    public static int NeedAfterRefusals(BorrowRequest request, IReadOnlyDictionary<string, string> refused)
    {
        if (refused.Count == 0) return request.Count;
        var adoptions = request.Adoptions ?? [];
        if (adoptions.All(a => refused.ContainsKey(a.LeaseId))) return 0;
        return Math.Max(0, request.Count - adoptions.Where(a => refused.ContainsKey(a.LeaseId)).DistinctBy(a => a.LeaseId).Sum(a => a.Count));
    }

    /// <summary>Keeps the last <paramref name="kept"/> borrow outcomes.</summary>
    public void RememberBorrow(BorrowOutcome outcome, int kept)
    {
        state.RecentBorrows.Add(outcome);
        if (state.RecentBorrows.Count > kept) state.RecentBorrows.RemoveRange(0, state.RecentBorrows.Count - kept);
    }
}
