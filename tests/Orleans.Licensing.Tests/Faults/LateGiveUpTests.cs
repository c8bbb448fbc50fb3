namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// A give-up that the leader stopped waiting for lands later: the giver shrank, the leader counted nothing given and
/// wrote nothing. The giver must still take the leader's next commit, not ignore it as one it has seen.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
public sealed class LateGiveUpTests(FaultInjectionFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "33")]
    [Trait("Category", "Fault")]
    public async Task A_give_up_answered_after_its_timeout_leaves_the_giver_taking_the_next_commit()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, giver, taker) = (servers[0], servers[1], servers[2]);
        var criteria = new DistributionCriteria(Shares: new Dictionary<string, int> { [giver] = 10 });
        await _pool.AddCodeAsync(code, 10, leader, criteria);

        // The taker needs seats; the only source is the giver, which does not answer in time: nothing is granted.
        GiveUpPause.Pause(giver);
        CheckoutResult denied;
        try
        {
            var checkout = _pool.Server(taker, code).Checkout(new CheckoutRequest("wanted", "client-wanted", 1));
            await GiveUpPause.Arrived(giver).WaitAsync(TimeSpan.FromSeconds(30));
            denied = await checkout;
        }
        finally
        {
            GiveUpPause.Resume(giver);
        }

        Assert.False(denied.Granted);
        await WaitAsync.UntilAsync(async () => (await _pool.Server(giver, code).GetView()).Allocated < 10, "the late give-up lands at the giver");

        // The leader's next commit (the same criteria again) says the giver has 10: the giver takes it.
        var committed = await _pool.Server(leader, code).ChangeDistributionCriteria(new ChangeDistributionCriteria(code, criteria));
        Assert.Equal(10, committed[giver]!.Allocated);
        await WaitAsync.UntilAsync(async () => (await _pool.Server(giver, code).GetView()).Allocated == 10,
            "the giver applies the leader's commit after its late give-up", TimeSpan.FromSeconds(10));
        await Invariants.CheckAsync(_pool, code);
    }
}
