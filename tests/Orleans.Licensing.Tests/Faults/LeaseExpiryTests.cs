namespace Orleans.Licensing.Tests.Faults;

/// <summary>Leases live by heartbeats; a down server's allocations are held for its clients only while their leases live.</summary>
[Collection(ShortLeaseCollection.Name)]
public sealed class LeaseExpiryTests(ShortLeaseFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_lease_without_heartbeats_expires_and_its_allocation_is_free_again()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 3, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[1]] = 1 }, DefaultThreshold: 1.0));
        var server = _pool.Server(servers[1], code);
        var lease = (await server.Checkout(new CheckoutRequest("silent", "c", 1))).Lease!;
        Assert.True(lease.RenewAfter < lease.ExpiresAt);

        await WaitAsync.UntilAsync(async () => (await server.GetView()).InUse == 0, "lease expired", TimeSpan.FromSeconds(20));
        Assert.False(await server.Checkin("silent", "c"));

        // A late heartbeat to the same server does not take the seat back: the lease is gone.
        var late = await Assert.ThrowsAsync<LicensingException>(() => server.Update(new LeaseUpdate("silent", "c", 1, servers[1])));
        Assert.Equal(LicensingErrors.LeaseUnknown, late.Error);
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(0, views.Sum(v => v.InUse));
        Assert.True((await server.Checkout(new CheckoutRequest("next", "d", 1))).Granted);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task Heartbeats_keep_a_lease_alive_past_its_first_expiry()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 3, servers[0]);
        var server = _pool.Server(servers[2], code);
        var lease = (await server.Checkout(new CheckoutRequest("kept", "c", 1))).Lease!;
        var firstExpiry = lease.ExpiresAt;

        // Renew at renewAfter until well past the first expiry.
        while (DateTimeOffset.UtcNow < firstExpiry + ShortLeaseFixture.LeaseTtl)
        {
            await Task.Delay(lease.RenewAfter - DateTimeOffset.UtcNow is { } wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
            lease = await server.Update(new LeaseUpdate("kept", "c", 1, servers[2]));
        }

        Assert.True(lease.ExpiresAt > firstExpiry);
        Assert.Equal(["kept"], (await server.GetView()).Leases.Select(l => l.LeaseId));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_down_servers_allocations_backing_live_leases_are_held_until_those_leases_would_have_expired()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (taker, victim) = (servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 4, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [victim] = 4 }, DefaultThreshold: 1.0));
        await _pool.Server(victim, code).Checkout(new CheckoutRequest("held", "c", 3));

        await _pool.KillAsync(victim);
        try
        {
            await _pool.WaitUntilDownAsync(code, victim);

            // One unused allocation is a source at once; the three behind the live lease are held.
            Assert.True((await _pool.Server(taker, code).Checkout(new CheckoutRequest("t1", "x", 1))).Granted);
            Assert.False((await _pool.Server(taker, code).Checkout(new CheckoutRequest("t2", "y", 1))).Granted);
            Assert.Equal(3, (await _pool.DistributionAsync(code))[victim]!.Held);

            // The client never failed over: once its lease would have expired, the held allocations are a source.
            // t1's client keeps heartbeating meanwhile (t1 was granted just after the victim's lease and would expire too).
            await WaitAsync.UntilAsync(async () =>
            {
                await _pool.Server(taker, code).Update(new LeaseUpdate("t1", "x", 1, taker));
                return (await _pool.DistributionAsync(code))[victim]!.Held == 0;
            }, "hold window over", TimeSpan.FromSeconds(20));
            Assert.True((await _pool.Server(taker, code).Checkout(new CheckoutRequest("t3", "z", 3))).Granted);
            var (distribution, _) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal(4, distribution[taker]!.Allocated);
            Assert.Equal(0, distribution[victim]!.Allocated);
        }
        finally
        {
            await _pool.RestartAsync(victim);
        }

        // Back, the victim drops its expired lease and manages nothing it could over-issue.
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Empty(views.Single(v => v.ServerId == victim).Leases);
    }
}
