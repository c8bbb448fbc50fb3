namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// LINGER (docs/admin/linger.md) on a real cluster with six-second leases: a checked-in lease keeps its seat for the
/// code's linger, then expires by the sweep; the leader holds a killed server's lingering lease until its end.
/// </summary>
[Collection(ShortLeaseCollection.Name)]
public sealed class LingerTests(ShortLeaseFixture fixture)
{
    private static readonly TimeSpan Ttl = ShortLeaseFixture.LeaseTtl;
    private readonly PoolCluster _pool = fixture.Pool;

    private Task<Distribution> LingerAsync(string code, TimeSpan linger) =>
        _pool.Server(_pool.ServerIds[0], code).SetLinger(new SetLinger(code, linger));

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_check_in_of_a_full_pool_keeps_the_seat_until_the_linger_ends_then_a_new_checkout_is_granted()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var server = _pool.Server(servers[1], code);
        await _pool.AddCodeAsync(code, 2, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[1]] = 2 }, DefaultThreshold: 1.0));

        var invalid = await Assert.ThrowsAsync<LicensingException>(() => LingerAsync(code, TimeSpan.FromHours(25)));
        Assert.Equal(LicensingErrors.InvalidRequest, invalid.Error);
        Assert.Equal(0, (await _pool.DistributionAsync(code)).OfflineBorrow!.Policy.Version);
        var linger = 3 * Ttl;
        var set = await LingerAsync(code, linger);
        Assert.Equal((linger, 1L), (set.OfflineBorrow!.Policy.Linger, set.OfflineBorrow.Policy.Version));
        await WaitAsync.UntilAsync(async () => (await server.GetView()).AppliedVersion >= set.Version, "linger synced");

        Assert.True((await server.Checkout(new CheckoutRequest("a", "app-1", 1))).Granted);
        Assert.True((await server.Checkout(new CheckoutRequest("b", "app-2", 1))).Granted);
        var checkedInAt = DateTimeOffset.UtcNow;
        Assert.True(await server.Checkin("a", "app-1"));

        // The seat stays taken: a new checkout anywhere is denied while it lingers, through more than one lease TTL.
        var lingering = (await server.GetView()).Leases.Single(l => l.LeaseId == "a");
        Assert.True(lingering.ExpiresAt >= checkedInAt + linger, $"lingers until {lingering.ExpiresAt:O}");
        Assert.Equal(lingering.ExpiresAt, (await server.Update(new LeaseUpdate("a", "app-1", 1, servers[1]))).ExpiresAt);
        Assert.False((await server.Checkout(new CheckoutRequest("c", "app-3", 1))).Granted);
        Assert.False((await _pool.Server(servers[2], code).Checkout(new CheckoutRequest("d", "app-4", 1))).Granted);
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(2, views.Sum(v => v.InUse));
        // "b" keeps heartbeating meanwhile (it is the other seat of the full pool).
        await DelayUntilAsync(checkedInAt + 0.7 * Ttl);
        await server.Update(new LeaseUpdate("b", "app-2", 1, servers[1]));
        await DelayUntilAsync(checkedInAt + 1.4 * Ttl);
        await server.Update(new LeaseUpdate("b", "app-2", 1, servers[1]));
        Assert.False((await server.Checkout(new CheckoutRequest("c", "app-3", 1))).Granted);

        // At its end the sweep frees it, and the seat is granted again.
        await WaitAsync.UntilAsync(async () =>
        {
            await server.Update(new LeaseUpdate("b", "app-2", 1, servers[1]));
            return (await server.GetView()).Leases.All(l => l.LeaseId != "a");
        }, "linger ended", 3 * Ttl);
        Assert.True(DateTimeOffset.UtcNow >= lingering.ExpiresAt, "the linger ended early");
        Assert.True((await server.Checkout(new CheckoutRequest("c", "app-3", 1))).Granted);
        (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(2, views.Sum(v => v.InUse));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task The_leader_holds_a_killed_servers_lingering_lease_until_the_lingers_end()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (other, victim) = (servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 2, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [victim] = 2 }, DefaultThreshold: 1.0));
        var set = await LingerAsync(code, 5 * Ttl);
        await WaitAsync.UntilAsync(async () => (await _pool.Server(victim, code).GetView()).AppliedVersion >= set.Version, "linger synced");
        Assert.True((await _pool.Server(victim, code).Checkout(new CheckoutRequest("kept", "app", 1))).Granted);
        Assert.True(await _pool.Server(victim, code).Checkin("kept", "app"));
        var end = (await _pool.Server(victim, code).GetView()).Leases.Single().ExpiresAt;

        await _pool.KillAsync(victim);
        try
        {
            await _pool.WaitUntilDownAsync(code, victim);
            var fencedAt = DateTimeOffset.UtcNow;
            Assert.Equal(1, (await _pool.DistributionAsync(code))[victim]!.Held);

            // More than a lease TTL after the fence (an ordinary lease would be released): still held.
            if (fencedAt + 1.5 * Ttl < end) await DelayUntilAsync(fencedAt + 1.5 * Ttl);
            await _pool.Pool(code).RefreshMembership();
            if (DateTimeOffset.UtcNow < end - TimeSpan.FromSeconds(1))
            {
                Assert.Equal(1, (await _pool.DistributionAsync(code))[victim]!.Held);
                Assert.False((await _pool.Server(other, code).Checkout(new CheckoutRequest("needs-two", "x", 2))).Granted);
            }

            await Invariants.CheckAsync(_pool, code);

            // At its end the leader frees it.
            await WaitAsync.UntilAsync(async () =>
            {
                await _pool.Pool(code).RefreshMembership();
                return (await _pool.DistributionAsync(code))[victim]!.Held == 0;
            }, "linger ended at the leader", 3 * Ttl + (end - DateTimeOffset.UtcNow));
            Assert.True(DateTimeOffset.UtcNow >= end - TimeSpan.FromSeconds(1), "released before the linger's end");
            Assert.True((await _pool.Server(other, code).Checkout(new CheckoutRequest("needs-two", "x", 2))).Granted);
        }
        finally
        {
            await _pool.RestartAsync(victim);
        }

        await Invariants.CheckAsync(_pool, code);
    }

    /// <summary>Lets time pass until <paramref name="moment"/> (a moment already past: at once).</summary>
    private static Task DelayUntilAsync(DateTimeOffset moment) =>
        moment > DateTimeOffset.UtcNow ? Task.Delay(moment - DateTimeOffset.UtcNow) : Task.CompletedTask;
}
