namespace Orleans.Licensing.Tests.Claims;

/// <summary>For a client's request the leader looks in the free pool, then down servers, then its own share (claims 5, 19).</summary>
[Collection(FaultCollection.Name)]
public sealed class SourceOrderTests(FaultFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "5")]
    [Trait("Claim", "19")]
    public async Task A_client_request_borrows_from_the_free_pool_then_down_servers_then_the_leader_server()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, requester, down) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 12, leader, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [leader] = 4, [requester] = 2, [down] = 4 }, DefaultThreshold: 1.0));
        await _pool.Server(down, code).Checkout(new CheckoutRequest("held", "client-of-down", 1));

        await _pool.KillAsync(down);
        try
        {
            await _pool.WaitUntilDownAsync(code, down);
            var server = _pool.Server(requester, code);
            async Task<Distribution> CheckoutOneAsync()
            {
                Assert.True((await server.Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "c", 1))).Granted);
                return await _pool.DistributionAsync(code);
            }

            for (var i = 0; i < 2; i++) await CheckoutOneAsync();

            // The free pool (2) first.
            var d = await CheckoutOneAsync();
            Assert.Equal((1, 4, 4), (d.FreePool, d[down]!.Allocated, d[leader]!.Allocated));
            d = await CheckoutOneAsync();
            Assert.Equal((0, 4, 4), (d.FreePool, d[down]!.Allocated, d[leader]!.Allocated));

            // Then the down server: 3 unused, 1 held for its client's lease.
            for (var i = 3; i > 0; i--)
            {
                d = await CheckoutOneAsync();
                Assert.Equal((0, i, 4), (d.FreePool, d[down]!.Allocated, d[leader]!.Allocated));
            }

            Assert.Equal(1, d[down]!.Held);

            // Then the leader server's own share.
            for (var i = 3; i >= 0; i--)
            {
                d = await CheckoutOneAsync();
                Assert.Equal((0, 1, i), (d.FreePool, d[down]!.Allocated, d[leader]!.Allocated));
            }

            // Nothing left but the allocation held for the down server's client.
            Assert.False((await server.Checkout(new CheckoutRequest("denied", "c", 1))).Granted);
            var (final, views) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal(11, final[requester]!.Allocated);
            Assert.Equal(11, views.Single(v => v.ServerId == requester).InUse);
        }
        finally
        {
            await _pool.RestartAsync(down);
        }

        // Back up, the down server still has its client's lease and its one allocation.
        var (_, after) = await Invariants.CheckAsync(_pool, code);
        var back = after.Single(v => v.ServerId == down);
        Assert.Equal(1, back.Allocated);
        Assert.Equal(["held"], back.Leases.Select(l => l.LeaseId));
    }
}
