namespace Orleans.Licensing.Tests.Claims;

/// <summary>Initial distribution of zero or more allocations per server, and re-distribution by the leader (claim 32).</summary>
[Collection(PoolCollection.Name)]
public sealed class RedistributionTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "32")]
    public async Task Each_server_gets_an_initial_distribution_of_zero_or_more_allocations()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var added = await _pool.AddCodeAsync(code, 10, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [servers[0]] = 0, [servers[1]] = 7 }));
        Assert.Equal([0, 7, 0], added.Servers.Select(s => s.Allocated).ToList());
        Assert.Equal(3, added.FreePool);

        var even = await _pool.AddCodeAsync(PoolCluster.NewCode(), 10, servers[0]);
        Assert.Equal([3, 3, 3], even.Servers.Select(s => s.Allocated).ToList());
        Assert.Equal(1, even.FreePool);
    }

    [Fact]
    [Trait("Claim", "32")]
    public async Task The_leader_re_distributes_idle_surplus_to_the_free_pool_and_back_to_servers_below_their_share()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (busy, idle) = (servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 12, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [servers[0]] = 2, [busy] = 2, [idle] = 2 }, DefaultThreshold: 1.0));

        // A burst at one server borrows the whole free pool.
        var leases = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var lease = (await _pool.Server(busy, code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "burst", 1))).Lease!;
            leases.Add(lease.LeaseId);
        }

        var peak = await _pool.DistributionAsync(code);
        Assert.Equal(8, peak[busy]!.Allocated);
        Assert.Equal(0, peak.FreePool);

        // The burst ends but one; the surplus above the base share goes back to the free pool.
        foreach (var id in leases.Skip(1)) Assert.True(await _pool.Server(busy, code).Checkin(id, "burst"));
        var moved = await _pool.Pool(code).Redistribute();
        Assert.Equal(6, moved);
        var (after, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(2, after[busy]!.Allocated);
        Assert.Equal(6, after.FreePool);
        Assert.Equal(1, views.Single(v => v.ServerId == busy).InUse);

        // Nothing idle any more: a second pass moves nothing and changes no version.
        Assert.Equal(0, await _pool.Pool(code).Redistribute());
        Assert.Equal(after.Version, (await _pool.DistributionAsync(code)).Version);
    }

    [Fact]
    [Trait("Claim", "32")]
    public async Task Re_distribution_keeps_what_a_busy_server_needs_within_its_threshold()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var busy = servers[1];
        await _pool.AddCodeAsync(code, 20, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [busy] = 2 }, DefaultThreshold: 0.5));
        for (var i = 0; i < 5; i++) Assert.True((await _pool.Server(busy, code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "c", 1))).Granted);
        await WaitAsync.UntilAsync(async () => (await _pool.Server(busy, code).GetView()).Allocated == 10, "borrowed to 10");

        // 5 in use at threshold 0.5 needs 10: nothing is surplus.
        Assert.Equal(0, await _pool.Pool(code).Redistribute());
        var (after, _) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(10, after[busy]!.Allocated);
    }

    [Fact]
    [Trait("Claim", "32")]
    public async Task A_server_that_would_deny_gets_the_idle_allocations_of_other_live_servers_at_once()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, light, busy) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 30, leader, new DistributionCriteria(Even: true, DefaultThreshold: 0.8));
        for (var i = 0; i < 4; i++) Assert.True((await _pool.Server(light, code).Checkout(new CheckoutRequest($"light-{i}", "l", 1))).Granted);

        // Skewed demand: every other client is at the busy server. It gets its own 10, the leader server's 10 unused,
        // and what the light server holds beyond its threshold's need (4 in use at 0.8 need 5): 5. No timer is running.
        var granted = 0;
        while ((await _pool.Server(busy, code).Checkout(new CheckoutRequest($"busy-{granted}", "b", 1))).Granted) granted++;
        Assert.Equal(25, granted);

        // At the first denial 29 of the 30 seats are in use (96.7 %): only the light server's threshold headroom is idle.
        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(29, views.Sum(v => v.InUse));
        Assert.Equal(5, distribution[light]!.Allocated);
        Assert.Equal(25, distribution[busy]!.Allocated);
    }
}
