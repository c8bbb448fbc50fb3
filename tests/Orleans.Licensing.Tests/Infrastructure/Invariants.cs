namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>The invariants of docs/safety.md, checked against the leader and every functioning server.</summary>
public static class Invariants
{
    /// <summary>Waits until every functioning server applied the leader's latest distribution, then checks.</summary>
    public static async Task<(Distribution Distribution, IReadOnlyList<ServerView> Views)> CheckAsync(PoolCluster pool, string code)
    {
        Distribution distribution = null!;
        List<ServerView> views = [];
        await WaitAsync.UntilAsync(async () =>
        {
            distribution = await pool.DistributionAsync(code);
            views = [];
            // Every running server, whether or not the leader has seen it come back yet (asking activates and rejoins it).
            foreach (var serverId in pool.ServerIds)
            {
                views.Add(await pool.Server(serverId, code).GetView());
            }

            // Read the leader again after the servers: a server that just rejoined is up from then on, and its leases
            // must not also be counted as held for it.
            var again = await pool.DistributionAsync(code);
            var settled = again.Version == distribution.Version
                && views.All(v => v.AppliedVersion >= again.Version && again[v.ServerId]?.Status != ServerStatus.Down);
            distribution = again;
            return settled;
        }, $"servers of {code} synced", TimeSpan.FromSeconds(60), describe: () => $"leader v{distribution?.Version} {string.Join("; ", distribution?.Servers ?? [])}; servers: {string.Join("; ", views.Select(v => $"{v.ServerId} v{v.AppliedVersion} {v.InUse}/{v.Allocated}"))}");

        // 1. Per code: Σ allocated + free pool = total.
        Assert.Equal(distribution.Total, distribution.AllocatedSum + distribution.FreePool);
        Assert.True(distribution.FreePool >= 0, $"free pool {distribution.FreePool}");
        Assert.All(distribution.Servers, s => Assert.True(s.Allocated >= 0, $"{s.ServerId} allocated {s.Allocated}"));

        foreach (var view in views)
        {
            var leaderCounts = distribution[view.ServerId]?.Allocated ?? 0;

            // 2. Per server: leases in use ≤ allocated, and the server never manages more than the leader counts for it.
            Assert.True(view.InUse <= view.Allocated, $"{view.ServerId}: {view.InUse} in use > {view.Allocated} allocated");
            Assert.True(view.Allocated <= leaderCounts, $"{view.ServerId}: record {view.Allocated} > leader's {leaderCounts}");
            Assert.Equal(view.InUse, view.Leases.Sum(l => l.Count));
        }

        // No lease counted at two servers; the pool never issues more than the license code grants.
        var leaseIds = views.SelectMany(v => v.Leases.Select(l => l.LeaseId)).ToList();
        Assert.Equal(leaseIds.Count, leaseIds.Distinct().Count());
        var held = distribution.Servers.Where(s => s.Status == ServerStatus.Down).Sum(s => s.Held);
        Assert.True(views.Sum(v => v.InUse) + held <= distribution.Total,
            $"in use {views.Sum(v => v.InUse)} + held {held} > total {distribution.Total}: {string.Join("; ", distribution.Servers)}, free {distribution.FreePool}; "
            + string.Join("; ", views.Select(v => $"{v.ServerId} {v.InUse}/{v.Allocated} [{string.Join(",", v.Leases.Select(l => $"{l.LeaseId}x{l.Count}"))}]")));
        return (distribution, views);
    }
}
