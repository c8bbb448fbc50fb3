namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// Demand beyond the seats is the normal peak of a floating license: denials cost the leader a call per wave, not per
/// checkout, write nothing, and never outlive the change that makes room.
/// </summary>
[Collection(PoolCollection.Name)]
public sealed class CongestionTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "5")]
    public async Task Checkouts_beyond_every_seat_are_denied_with_a_few_leader_calls_and_no_distribution_change()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 3, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[1]] = 3 }, DefaultThreshold: 1.0));
        for (var i = 0; i < 3; i++) Assert.True((await _pool.Server(servers[1], code).Checkout(new CheckoutRequest($"full-{i}", "c", 1))).Granted);
        var before = await _pool.DistributionAsync(code);
        var denier = _pool.Server(servers[2], code);
        var borrowsBefore = (await denier.GetView()).Borrows;

        for (var wave = 0; wave < 2; wave++)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => denier.Checkout(new CheckoutRequest($"w{wave}-{i}", $"d{i}", 1))));
            Assert.All(results, r => Assert.False(r.Granted));
        }

        // A wave shares the leader's answer (two calls at most: the one in flight when a checkout arrives is not enough);
        // a zero grant is not a change: the distribution's version stays.
        Assert.InRange((await denier.GetView()).Borrows - borrowsBefore, 1, 4);
        Assert.Equal(before.Version, (await _pool.DistributionAsync(code)).Version);

        // A change that makes room reaches the server as a sync, and the next checkout there asks the leader again.
        var added = await _pool.Server(servers[0], code).AddAllocations(await _pool.AllocationsAsync(code, 1));
        await WaitAsync.UntilAsync(async () => (await denier.GetView()).AppliedVersion >= added.Version, "the denying server applied the change");
        Assert.True((await denier.Checkout(new CheckoutRequest("after-change", "e", 1))).Granted);
        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(4, views.Sum(v => v.InUse));
        Assert.Equal(0, distribution.FreePool);
    }
}
