using Orleans.Storage;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// The fence invariant (docs/safety.md): a server the leader cannot reach is fenced before its allocations count elsewhere,
/// and a fenced server acknowledges nothing until it rejoins; a leader turn that fails halfway changes nothing.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
public sealed class FencingTests(FaultInjectionFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Claim", "14")]
    [Trait("Category", "Fault")]
    public async Task A_client_failing_over_from_a_silent_server_in_a_full_pool_keeps_its_seat_and_the_silent_server_acknowledges_nothing_more()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, origin, adopter) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        foreach (var server in servers)
        {
            for (var i = 1; i <= 2; i++) Assert.True((await _pool.Server(server, code).Checkout(new CheckoutRequest($"{server}-{i}", $"c-{server}-{i}", 1))).Granted);
        }

        // The origin stops answering the leader but is not declared dead (a pause, a partition); its client fails over.
        // No seat is free: the seat must move with the lease, so the leader fences the origin and takes that lease's seat.
        GiveUpPause.Pause(origin);
        try
        {
            var adopted = await _pool.Server(adopter, code).Update(new LeaseUpdate($"{origin}-1", $"c-{origin}-1", 1, origin));
            Assert.Equal(adopter, adopted.ServerId);
            var fenced = await _pool.DistributionAsync(code);
            Assert.Equal(ServerStatus.Down, fenced[origin]!.Status);
            Assert.Equal((1, 1), (fenced[origin]!.Allocated, fenced[origin]!.Held));
            Assert.Equal(3, fenced[adopter]!.Allocated);
            Assert.Equal(6, fenced.AllocatedSum + fenced.FreePool);

            // The origin still runs and still has its copy of both leases, but it acknowledges nothing more: not even
            // a renewal of the lease the leader holds for it.
            var renewal = await Record.ExceptionAsync(() => _pool.Server(origin, code).Update(new LeaseUpdate($"{origin}-2", $"c-{origin}-2", 1, origin)));
            Assert.True(renewal is InconsistentStateException or LicensingException { Error: LicensingErrors.Unavailable }, $"the fenced origin answered {renewal?.GetType().Name ?? "a renewal"}");
        }
        finally
        {
            GiveUpPause.Resume(origin);
        }

        // It reloads, rejoins through the leader, and serves again: its own lease renews, the adopted one is gone there.
        await WaitAsync.UntilAsync(async () =>
        {
            try
            {
                await _pool.Server(origin, code).Update(new LeaseUpdate($"{origin}-2", $"c-{origin}-2", 1, origin));
                return true;
            }
            catch (Exception e) when (e is InconsistentStateException or LicensingException { Error: LicensingErrors.Unavailable })
            {
                return false;
            }
        }, "the fenced origin serves again after rejoining");
        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal([$"{origin}-2"], views.Single(v => v.ServerId == origin).Leases.Select(l => l.LeaseId));
        Assert.Equal(new[] { $"{adopter}-1", $"{adopter}-2", $"{origin}-1" }.Order(StringComparer.Ordinal), views.Single(v => v.ServerId == adopter).Leases.Select(l => l.LeaseId).Order(StringComparer.Ordinal));
        Assert.Equal(6, views.Sum(v => v.InUse));
        Assert.Equal(0, distribution.FreePool);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_borrow_whose_giver_cannot_write_takes_nothing_from_the_free_pool_that_it_does_not_grant()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, taker) = (servers[0], servers[1]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [leader] = 4, [taker] = 1 }, DefaultThreshold: 1.0));
        Assert.True((await _pool.Server(taker, code).Checkout(new CheckoutRequest("t1", "a", 1))).Granted);

        // The taker needs 2: the free pool has 1, the leader server's own grain cannot write its give-up.
        var giver = _pool.Server(leader, code).GetGrainId();
        fixture.StorageOf(leader).FailWritesOf = (_, grainId) => grainId == giver;
        try
        {
            var denied = await _pool.Server(taker, code).Checkout(new CheckoutRequest("t2", "b", 2));
            Assert.False(denied.Granted);
        }
        finally
        {
            fixture.StorageOf(leader).FailWritesOf = null;
        }

        // Every allocation is still counted once: Σ allocated + free pool = 6 after the next change is written. (The
        // taker may deny locally for a moment: nothing told it that the leader server can give again.)
        await WaitAsync.UntilAsync(async () => (await _pool.Server(taker, code).Checkout(new CheckoutRequest("t2", "b", 2))).Granted, "the retried checkout is granted");
        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(6, distribution.AllocatedSum + distribution.FreePool);
        Assert.Equal(3, views.Single(v => v.ServerId == taker).InUse);
        Assert.Equal(3, distribution[taker]!.Allocated);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_down_server_whose_leases_cannot_be_read_keeps_everything_held_until_they_can()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, victim) = (servers[0], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        Assert.True((await _pool.Server(victim, code).Checkout(new CheckoutRequest("v1", "c", 1))).Granted);
        var victimGrain = _pool.Server(victim, code).GetGrainId();
        var storage = fixture.StorageOf(leader);
        storage.FailReadsOf = (_, grainId) => grainId == victimGrain;
        await _pool.KillAsync(victim);
        try
        {
            await _pool.WaitUntilDownAsync(code, victim);
            var unread = await _pool.DistributionAsync(code);
            Assert.Equal((2, 2), (unread[victim]!.Allocated, unread[victim]!.Held));
            Assert.Equal(6, unread.AllocatedSum + unread.FreePool);

            // Its client cannot be checked yet: "retry", not "unknown".
            var retry = await Assert.ThrowsAsync<LicensingException>(() => _pool.Server(servers[1], code).Update(new LeaseUpdate("v1", "c", 1, victim)));
            Assert.Equal(LicensingErrors.Unavailable, retry.Error);

            // Once its leases can be read, only the one lease is held, and its client fails over with it.
            storage.FailReadsOf = null;
            await _pool.Pool(code).RefreshMembership();
            var read = await _pool.DistributionAsync(code);
            Assert.Equal((2, 1), (read[victim]!.Allocated, read[victim]!.Held));
            var adopted = await _pool.Server(servers[1], code).Update(new LeaseUpdate("v1", "c", 1, victim));
            Assert.Equal(servers[1], adopted.ServerId);
        }
        finally
        {
            storage.FailReadsOf = null;
            await _pool.RestartAsync(victim);
        }

        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(["v1"], views.SelectMany(v => v.Leases).Select(l => l.LeaseId));
    }

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Category", "Fault")]
    public async Task A_client_whose_adoption_failed_after_the_leader_recorded_it_keeps_its_lease_when_it_comes_back_home()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (origin, adopter) = (servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, servers[0], new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        Assert.True((await _pool.Server(origin, code).Checkout(new CheckoutRequest("o1", "c", 1))).Granted);

        // The leader moves the lease to the adopter (the origin drops it), then the adopter cannot write it.
        var adopterGrain = _pool.Server(adopter, code).GetGrainId();
        fixture.StorageOf(adopter).FailWritesOf = (_, grainId) => grainId == adopterGrain;
        try
        {
            var failed = await Record.ExceptionAsync(() => _pool.Server(adopter, code).Update(new LeaseUpdate("o1", "c", 1, origin)));
            Assert.True(failed is LicensingException { Error: LicensingErrors.Unavailable }, $"the adopter answered {failed?.GetType().Name ?? "granted"}");
        }
        finally
        {
            fixture.StorageOf(adopter).FailWritesOf = null;
        }

        // The client heard no answer and renews at home: the lease is still its own, counted once.
        var back = await _pool.Server(origin, code).Update(new LeaseUpdate("o1", "c", 1, origin));
        Assert.Equal(origin, back.ServerId);
        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(["o1"], views.SelectMany(v => v.Leases).Select(l => l.LeaseId));
        Assert.Equal(6, distribution.AllocatedSum + distribution.FreePool);
    }
}
