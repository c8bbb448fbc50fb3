namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// A leader write fails after a live holder dropped a lease that moves to an adopter: the holder's drop is durable,
/// the leader's record of the adoption is not. The retried borrow must hear what the holder did, not lose the lease.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
public sealed class LeaderWriteFailureTests(FaultInjectionFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Claim", "27")]
    [Trait("Category", "Fault")]
    public async Task A_failed_leader_write_after_the_holder_dropped_a_moving_lease_keeps_the_lease_with_its_client()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, holder, adopter) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        Assert.True((await _pool.Server(holder, code).Checkout(new CheckoutRequest("moving", "client-moving", 1))).Granted);

        var storage = fixture.StorageOf(leader);
        var poolGrain = _pool.Pool(code).GetGrainId();
        var armed = 1;
        storage.FailWritesOf = (name, grain) => name == "pool" && grain == poolGrain && Interlocked.Exchange(ref armed, 0) == 1;
        Lease adopted;
        try
        {
            adopted = await _pool.Server(adopter, code).Update(new LeaseUpdate("moving", "client-moving", 1, holder));
        }
        finally
        {
            storage.FailWritesOf = null;
        }

        Assert.Equal(0, armed);
        Assert.Equal(adopter, adopted.ServerId);
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(["moving"], views.Single(v => v.ServerId == adopter).Leases.Select(l => l.LeaseId));
        Assert.Empty(views.Single(v => v.ServerId == holder).Leases);

        // The client renews at its new server.
        Assert.Equal(adopter, (await _pool.Server(adopter, code).Update(new LeaseUpdate("moving", "client-moving", 1, adopter))).ServerId);
    }
}
