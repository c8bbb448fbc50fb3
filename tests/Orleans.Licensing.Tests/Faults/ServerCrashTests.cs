namespace Orleans.Licensing.Tests.Faults;

/// <summary>Killing silos while clients hold leases: nothing over-issued, no live lease lost, nothing counted twice.</summary>
[Collection(FaultCollection.Name)]
public sealed class ServerCrashTests(FaultFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Category", "Fault")]
    public async Task Clients_of_a_killed_server_fail_over_and_keep_their_leases_and_its_unused_allocations_become_a_source()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, other, victim) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 12, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        var leases = new List<Lease>();
        for (var i = 0; i < 3; i++)
        {
            leases.Add((await _pool.Server(victim, code).Checkout(new CheckoutRequest($"v{i}", $"client-{i}", 1))).Lease!);
        }

        await _pool.KillAsync(victim);
        try
        {
            await Assert.ThrowsAsync<SiloUnavailableException>(() => _pool.Server(victim, code).GetView());
            await _pool.WaitUntilDownAsync(code, victim);
            var down = await _pool.DistributionAsync(code);
            Assert.Equal((4, 3), (down[victim]!.Allocated, down[victim]!.Held));

            // Each client fails over to the next server in its list: same lease id, same count.
            for (var i = 0; i < leases.Count; i++)
            {
                var target = i % 2 == 0 ? other : leader;
                var adopted = await _pool.Server(target, code).Update(new LeaseUpdate(leases[i].LeaseId, leases[i].ClientId, 1, victim));
                Assert.Equal((leases[i].LeaseId, 1, target), (adopted.LeaseId, adopted.Count, adopted.ServerId));
            }

            var (afterFailover, views) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal(0, afterFailover[victim]!.Held);
            Assert.Equal(3, views.Sum(v => v.InUse));

            // The dead server's allocations are a source now: the survivors can use all 12 seats, and no more.
            var granted = 3;
            foreach (var server in new[] { leader, other })
            {
                while ((await _pool.Server(server, code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "new", 1))).Granted) granted++;
            }

            Assert.Equal(12, granted);
            var (full, fullViews) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal(12, fullViews.Sum(v => v.InUse));
            Assert.Equal(0, full[victim]!.Allocated);
        }
        finally
        {
            await _pool.RestartAsync(victim);
        }

        // The killed server rejoins: it counts none of the adopted leases and serves again (nothing is free now).
        var (_, rejoined) = await Invariants.CheckAsync(_pool, code);
        var back = rejoined.Single(v => v.ServerId == victim);
        Assert.Empty(back.Leases);
        Assert.Equal(12, rejoined.Sum(v => v.InUse));
        var leaseAtLeader = rejoined.Single(v => v.ServerId == leader).Leases[0];
        Assert.True(await _pool.Server(leader, code).Checkin(leaseAtLeader.LeaseId, leaseAtLeader.ClientId));
        Assert.True((await _pool.Server(victim, code).Checkout(new CheckoutRequest("after-restart", "c", 1))).Granted);
        var (_, final) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(12, final.Sum(v => v.InUse));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_restarted_server_keeps_the_leases_nobody_adopted()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var victim = servers[1];
        await _pool.AddCodeAsync(code, 6, servers[0], new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        await _pool.Server(victim, code).Checkout(new CheckoutRequest("stays", "patient-client", 2));
        await _pool.Server(victim, code).Checkout(new CheckoutRequest("moves", "impatient-client", 1));

        await _pool.KillAsync(victim);
        try
        {
            await _pool.WaitUntilDownAsync(code, victim);
            await _pool.Server(servers[2], code).Update(new LeaseUpdate("moves", "impatient-client", 1, victim));
        }
        finally
        {
            await _pool.RestartAsync(victim);
        }

        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        var back = views.Single(v => v.ServerId == victim);
        Assert.Equal(["stays"], back.Leases.Select(l => l.LeaseId));
        Assert.Equal(2, back.InUse);
        Assert.Equal(["moves"], views.Single(v => v.ServerId == servers[2]).Leases.Select(l => l.LeaseId));
        Assert.Equal(6, distribution.Total);

        // The patient client's heartbeat reaches its own server again, which still holds the lease.
        var renewed = await _pool.Server(victim, code).Update(new LeaseUpdate("stays", "patient-client", 2, victim));
        Assert.Equal(victim, renewed.ServerId);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task When_the_leader_silo_dies_the_pool_reactivates_elsewhere_from_storage_and_keeps_working()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (oldLeader, a, b) = (servers[1], servers[0], servers[2]);
        var added = await _pool.AddCodeAsync(code, 9, oldLeader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        Assert.Equal(oldLeader, added.LeaderServerId);
        await _pool.Server(a, code).Checkout(new CheckoutRequest("a1", "c", 3));

        await _pool.KillAsync(oldLeader);
        try
        {
            // A borrow reaches the leader, which re-activates on another silo with the stored distribution.
            Assert.True((await _pool.Server(a, code).Checkout(new CheckoutRequest("a2", "c", 1))).Granted);
            var (distribution, views) = await Invariants.CheckAsync(_pool, code);
            Assert.NotEqual(oldLeader, distribution.LeaderServerId);
            Assert.Equal(ServerStatus.Down, distribution[oldLeader]!.Status);
            Assert.Equal(9, distribution.Total);
            Assert.Equal(4, distribution[a]!.Allocated);
            Assert.Equal(2, distribution[oldLeader]!.Allocated);
            Assert.True(distribution.Version > added.Version);
            Assert.Equal(4, views.Single(v => v.ServerId == a).InUse);
        }
        finally
        {
            await _pool.RestartAsync(oldLeader);
        }

        var (after, _) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(ServerStatus.Up, after[oldLeader]!.Status);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Killing_the_leader_silo_during_concurrent_borrowing_loses_and_duplicates_no_allocation()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (survivorA, leader, survivorB) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 40, leader, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [survivorA] = 2, [survivorB] = 2 }, DefaultThreshold: 0.5));

        var granted = 0;
        async Task ClientsAsync(string server)
        {
            await Task.WhenAll(Enumerable.Range(0, 15).Select(async i =>
            {
                try
                {
                    if ((await _pool.Server(server, code).Checkout(new CheckoutRequest($"{server}-{i}", $"client-{i}", 1))).Granted)
                    {
                        Interlocked.Increment(ref granted);
                    }
                }
                catch (Exception e) when (e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException
                    or Orleans.Storage.InconsistentStateException or LicensingException { Error: LicensingErrors.Unavailable })
                {
                    // In flight to the dying leader, or answered by its stale activation: the REST layer answers 503 and
                    // the client retries.
                }
            }));
        }

        var load = Task.WhenAll(ClientsAsync(survivorA), ClientsAsync(survivorB));
        await _pool.KillAsync(leader);
        try
        {
            await load;
            var (distribution, views) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal(40, distribution.Total);
            Assert.Equal(granted, views.Sum(v => v.InUse));
            Assert.True(granted <= 40);
        }
        finally
        {
            await _pool.RestartAsync(leader);
        }

        // Every allocation is accounted for: the survivors can still fill exactly the 40 seats. (A client's request does
        // not take unused allocations from another live server, so each survivor fills what it holds or can borrow.)
        var more = 0;
        foreach (var server in new[] { survivorA, survivorB })
        {
            while ((await _pool.Server(server, code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "fill", 1))).Granted) more++;
        }

        var (full, fullViews) = await Invariants.CheckAsync(_pool, code);
        Assert.True(40 == fullViews.Sum(v => v.InUse), string.Join("; ", full.Servers) + $" free {full.FreePool}; " + string.Join("; ", fullViews.Select(v => $"{v.ServerId}: {v.InUse}/{v.Allocated}")));
        Assert.Equal(40, granted + more);
        Assert.Equal(0, full.FreePool);
    }
}
