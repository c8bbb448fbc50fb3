namespace Orleans.Licensing.Tests.Faults;

/// <summary>A lease id is no bearer token: one lease per id, renewed and checked in only by the client it was granted to.</summary>
[Collection(PoolCollection.Name)]
public sealed class LeaseCheckTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "30")]
    public async Task Two_checkouts_with_one_lease_id_and_different_clients_are_not_both_granted()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 4, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[0]] = 4 }, DefaultThreshold: 1.0));
        var server = _pool.Server(servers[1], code);

        // Both must borrow first (the server has no allocation), so both wait for the leader before adding the lease.
        var attempts = await Task.WhenAll(
            Record.ExceptionAsync(() => server.Checkout(new CheckoutRequest("same", "a", 1))),
            Record.ExceptionAsync(() => server.Checkout(new CheckoutRequest("same", "b", 1))));
        Assert.Single(attempts, e => e is null);
        Assert.Single(attempts, e => e is LicensingException { Error: LicensingErrors.Conflict });

        var view = await server.GetView();
        Assert.Single(view.Leases);
        var holder = view.Leases[0].ClientId;

        // Only its client checks it in.
        Assert.False(await server.Checkin("same", holder == "a" ? "b" : "a"));
        Assert.Single((await server.GetView()).Leases);
        Assert.True(await server.Checkin("same", holder));
        await Invariants.CheckAsync(_pool, code);
    }
}
