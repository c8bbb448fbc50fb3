using System.Diagnostics;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>A server that comes back below its base share gets it back from the others' idle surplus (claim 32).</summary>
[Collection(RejoinCollection.Name)]
public sealed class RejoinTests(RejoinFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "32")]
    [Trait("Category", "Fault")]
    public async Task A_server_that_rejoins_below_its_base_share_is_refilled_within_seconds_not_a_period()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, other, victim) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 9, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        Assert.Equal(3, (await _pool.Server(victim, code).GetView()).Allocated);

        await _pool.KillAsync(victim);
        var restarted = false;
        try
        {
            await _pool.WaitUntilDownAsync(code, victim);

            // The survivors spend the dead server's allocations (and the leader's burst takes the other's idle ones too,
            // beyond the one lease it serves), then most of the burst ends: idle surplus above their shares.
            var leases = new List<(string Server, string LeaseId)>();
            leases.Add((other, (await _pool.Server(other, code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "burst", 1))).Lease!.LeaseId));
            foreach (var server in new[] { leader, other })
            {
                while ((await _pool.Server(server, code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "burst", 1))).Lease is { } lease)
                {
                    leases.Add((server, lease.LeaseId));
                }
            }

            Assert.Equal(9, leases.Count);
            Assert.Equal(0, (await _pool.DistributionAsync(code))[victim]!.Allocated);
            foreach (var (server, leaseId) in leases.Where(l => l.Server == leader).Skip(1).Concat(leases.Where(l => l.Server == other).Skip(1)))
            {
                Assert.True(await _pool.Server(server, code).Checkin(leaseId, "burst"));
            }

            await _pool.RestartAsync(victim);
            restarted = true;
            var clock = Stopwatch.StartNew();
            Assert.Empty((await _pool.Server(victim, code).GetView()).Leases);   // activates it: it rejoins the leader

            // The period is an hour; the leader re-distributes about a second after the rejoin.
            await WaitAsync.UntilAsync(async () => (await _pool.DistributionAsync(code))[victim]!.Allocated == 3,
                $"{victim} back at its base share", TimeSpan.FromSeconds(30));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
            await WaitAsync.UntilAsync(async () => (await _pool.Server(victim, code).GetView()).Allocated == 3, $"{victim} applied the sync");

            var (after, views) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal(2, views.Sum(v => v.InUse));
            Assert.Equal([3, 3, 3], servers.Select(s => after[s]!.Allocated).ToList());
            Assert.Equal(0, after.FreePool);

            // It serves its share from its own allocations again.
            for (var i = 0; i < 3; i++)
            {
                var granted = await _pool.Server(victim, code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), $"back-{i}", 1));
                Assert.True(granted.Granted);
            }

            var (full, fullViews) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal(3, fullViews.Single(v => v.ServerId == victim).InUse);
            Assert.Equal(5, fullViews.Sum(v => v.InUse));
            Assert.Equal(9, servers.Sum(s => full[s]!.Allocated) + full.FreePool);
        }
        finally
        {
            if (!restarted) await _pool.RestartAsync(victim);
        }
    }
}
