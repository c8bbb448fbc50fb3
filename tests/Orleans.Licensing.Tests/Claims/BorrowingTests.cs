namespace Orleans.Licensing.Tests.Claims;

/// <summary>Servers serve from their own allocations and borrow from the leader (claims 1–3, 16–18, 30, 31).</summary>
[Collection(PoolCollection.Name)]
public sealed class BorrowingTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    private static CheckoutRequest Request(string client, int count = 1) => new(Guid.NewGuid().ToString("N"), client, count);

    [Fact]
    [Trait("Claim", "1")]
    [Trait("Claim", "16")]
    public async Task Every_server_serves_clients_directly_and_the_leader_adds_allocations_to_one_that_lacks_them()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var added = await _pool.AddCodeAsync(code, 9, servers[0], new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        Assert.All(added.Servers, s => Assert.Equal(3, s.Allocated));
        Assert.Equal(0, added.FreePool);
        Assert.Equal(servers[0], added.LeaderServerId);

        // Each server grants from its own share, in the same manner.
        foreach (var server in servers)
        {
            var result = await _pool.Server(server, code).Checkout(Request($"client@{server}"));
            Assert.True(result.Granted);
            Assert.Equal(server, result.Lease!.ServerId);
        }

        // A non-leader server runs out: the leader moves allocations to it (from its own share here).
        var lacking = servers[1];
        for (var i = 0; i < 2; i++) Assert.True((await _pool.Server(lacking, code).Checkout(Request("more"))).Granted);
        var granted = await _pool.Server(lacking, code).Checkout(Request("one-more"));
        Assert.True(granted.Granted);

        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(4, distribution[lacking]!.Allocated);
        Assert.Equal(2, distribution[servers[0]]!.Allocated);
        Assert.Equal(4, views.Single(v => v.ServerId == lacking).InUse);
    }

    [Fact]
    [Trait("Claim", "2")]
    [Trait("Claim", "17")]
    public async Task A_server_borrows_when_in_use_divided_by_allocated_exceeds_its_threshold()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var server = servers[1];
        await _pool.AddCodeAsync(code, 30, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [server] = 10 }, Thresholds: new Dictionary<string, double> { [server] = 0.5 }));

        // 5 / 10 = 0.5 is not greater than 0.5: no borrow.
        for (var i = 0; i < 5; i++) Assert.True((await _pool.Server(server, code).Checkout(Request("c"))).Granted);
        var view = await _pool.Server(server, code).GetView();
        Assert.Equal(10, view.Allocated);
        Assert.Equal(0, view.Borrows);
        Assert.Equal(20, (await _pool.DistributionAsync(code)).FreePool);

        // 6 / 10 = 0.6 > 0.5: borrow until 6 / allocated ≤ 0.5, i.e. 12 allocated.
        Assert.True((await _pool.Server(server, code).Checkout(Request("c"))).Granted);
        await WaitAsync.UntilAsync(async () => (await _pool.Server(server, code).GetView()).Allocated == 12, "borrowed to 12");
        var (distribution, _) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(18, distribution.FreePool);
        Assert.Equal(1, (await _pool.Server(server, code).GetView()).Borrows);
    }

    [Fact]
    [Trait("Claim", "2")]
    [Trait("Claim", "17")]
    public void The_threshold_test_is_in_use_over_allocated_strictly_greater_than_the_threshold()
    {
        Assert.False(SeatMath.AboveThreshold(5, 10, 0.5));
        Assert.True(SeatMath.AboveThreshold(6, 10, 0.5));
        Assert.False(SeatMath.AboveThreshold(8, 10, 0.8));
        Assert.True(SeatMath.AboveThreshold(9, 10, 0.8));
        Assert.True(SeatMath.AboveThreshold(1, 0, 0.8));
        Assert.False(SeatMath.AboveThreshold(0, 0, 0.8));
        Assert.Equal(12, SeatMath.Needed(6, 0.5));
        Assert.Equal(10, SeatMath.Needed(8, 0.8));
        Assert.Equal(0, SeatMath.Needed(0, 0.8));
    }

    [Fact]
    [Trait("Claim", "3")]
    [Trait("Claim", "18")]
    public async Task Insufficient_allocations_during_a_request_are_borrowed_synchronously_and_the_request_is_granted()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var server = servers[2];
        await _pool.AddCodeAsync(code, 10, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [server] = 2 }, DefaultThreshold: 1.0));

        Assert.True((await _pool.Server(server, code).Checkout(Request("a"))).Granted);
        Assert.True((await _pool.Server(server, code).Checkout(Request("b"))).Granted);

        // No room left: this request borrows before it is answered, and is granted with 3 in use of 5 allocated.
        var result = await _pool.Server(server, code).Checkout(Request("c", 3));
        Assert.True(result.Granted);
        var view = await _pool.Server(server, code).GetView();
        Assert.Equal(5, view.Allocated);
        Assert.Equal(5, view.InUse);
        var (distribution, _) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(5, distribution.FreePool);
    }

    [Fact]
    [Trait("Claim", "3")]
    [Trait("Claim", "18")]
    public async Task A_server_above_its_threshold_borrows_early_without_holding_up_a_request_that_has_room()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var server = servers[1];
        await _pool.AddCodeAsync(code, 20, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [server] = 4 }, Thresholds: new Dictionary<string, double> { [server] = 0.5 }));

        // 3 / 4 > 0.5 after the third checkout; it had room, so it is granted from the server's own allocations.
        for (var i = 0; i < 3; i++) Assert.True((await _pool.Server(server, code).Checkout(Request("c"))).Granted);
        await WaitAsync.UntilAsync(async () => (await _pool.Server(server, code).GetView()).Allocated == 6, "early borrow to 6");
        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(14, distribution.FreePool);
        Assert.Equal(3, views.Single(v => v.ServerId == server).InUse);
    }

    [Fact]
    [Trait("Claim", "30")]
    [Trait("Claim", "31")]
    public async Task A_server_allocates_while_available_obtains_more_from_the_leader_and_denies_when_none_is_left()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var leader = servers[0];
        var server = servers[2];
        await _pool.AddCodeAsync(code, 3, leader, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [leader] = 2, [server] = 1 }, DefaultThreshold: 1.0));

        Assert.True((await _pool.Server(server, code).Checkout(Request("a"))).Granted);

        // Free pool empty, no server down: the allocations come from the lead server.
        Assert.True((await _pool.Server(server, code).Checkout(Request("b", 2))).Granted);
        var (distribution, _) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(0, distribution[leader]!.Allocated);
        Assert.Equal(3, distribution[server]!.Allocated);

        var denied = await _pool.Server(server, code).Checkout(Request("c"));
        Assert.False(denied.Granted);
        Assert.Contains("no source", denied.DeniedReason);
        var after = await _pool.Server(server, code).GetView();
        Assert.Equal(3, after.InUse);
        Assert.Equal(2, after.Leases.Count);
    }
}
