namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// A fail-over update sent in time waits behind a slow leader turn and reaches the lease's live server after the
/// lease's expiry there: it was the client's when the update arrived, so it stays the client's (found by the
/// randomized schedules, seed 2040).
/// </summary>
[Collection(RandomizedCollection.Name)]
public sealed class SlowLeaderFailoverTests(RandomizedFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Category", "Fault")]
    public async Task An_in_time_fail_over_update_delayed_by_a_slow_leader_past_the_lease_expiry_keeps_the_lease()
    {
        var code = PoolCluster.NewCode("slow");
        var servers = _pool.ServerIds;
        var (leader, holder, adopter) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        var lease = (await _pool.Server(holder, code).Checkout(new CheckoutRequest("late", "client-late", 1))).Lease!;

        // Close to the lease's expiry (2 s leases), the leader gets busy: its next write hangs 700 ms, then fails.
        await Task.Delay(lease.ExpiresAt - DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(300));
        var storage = fixture.StorageOf(leader);
        var poolGrain = _pool.Pool(code).GetGrainId();
        var armed = 1;
        storage.Reset();
        storage.FailDelay = TimeSpan.FromMilliseconds(700);
        storage.FailWritesOf = (name, grain) => name == "pool" && grain == poolGrain && Interlocked.Exchange(ref armed, 0) == 1;
        try
        {
            var allocations = await _pool.AllocationsAsync(code, 1);
            var busy = _pool.Server(leader, code).AddAllocations(allocations);
            await storage.FailingWriteStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var sent = DateTimeOffset.UtcNow;
            Assert.True(sent < lease.ExpiresAt, "the update must be sent in time");
            var adopted = await _pool.Server(adopter, code).Update(new LeaseUpdate("late", "client-late", 1, holder));
            Assert.Equal(adopter, adopted.ServerId);
            Assert.True(DateTimeOffset.UtcNow > lease.ExpiresAt, "the answer came after the old expiry: the case did not happen");
            await Record.ExceptionAsync(() => busy);
        }
        finally
        {
            storage.Reset();
        }

        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(["late"], views.Single(v => v.ServerId == adopter).Leases.Select(l => l.LeaseId));
    }
}
