namespace Orleans.Licensing.Tests.Faults;

/// <summary>Many clients at several servers at once, past every threshold: borrows run concurrently, nothing over-issued.</summary>
[Collection(PoolCollection.Name)]
public sealed class ConcurrencyTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "3")]
    [Trait("Category", "Fault")]
    public async Task Concurrent_checkouts_at_every_server_grant_exactly_the_seats_and_no_more()
    {
        const int seats = 60;
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, seats, servers[0], new DistributionCriteria(Even: true, DefaultThreshold: 0.6, FreePoolReserve: 30));

        // 3 servers × 40 clients = 120 requests for 60 seats, all in flight together.
        var results = await Task.WhenAll(servers.SelectMany(server => Enumerable.Range(0, 40).Select(i =>
            _pool.Server(server, code).Checkout(new CheckoutRequest($"{server}-{i}", $"client-{server}-{i}", 1)))));
        Assert.Equal(seats, results.Count(r => r.Granted));
        Assert.Equal(120 - seats, results.Count(r => !r.Granted));

        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(seats, views.Sum(v => v.InUse));
        Assert.Equal(0, distribution.FreePool);
        Assert.True(views.Sum(v => v.Borrows) >= 3, "each server borrowed");

        // Check everything in, concurrently: every seat is free to be used again.
        var granted = results.Where(r => r.Granted).Select(r => r.Lease!).ToList();
        var checkins = await Task.WhenAll(granted.Select(l => _pool.Server(l.ServerId, code).Checkin(l.LeaseId, l.ClientId)));
        Assert.All(checkins, Assert.True);
        var (_, empty) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(0, empty.Sum(v => v.InUse));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Concurrent_requests_to_one_server_share_writes()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 500, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[1]] = 500 }));
        var server = _pool.Server(servers[1], code);
        await server.GetView();

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => server.Checkout(new CheckoutRequest($"g{i}", "c", 1))));
        Assert.All(results, r => Assert.True(r.Granted));
        var view = await server.GetView();
        Assert.Equal(200, view.InUse);
        Assert.Equal(200, view.Leases.Select(l => l.LeaseId).Distinct().Count());
    }
}
