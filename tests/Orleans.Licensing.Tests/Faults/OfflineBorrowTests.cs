namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// Offline borrows (docs/admin/offline-borrow.md) on a real cluster with six-second leases: counted pool-wide by the
/// leader, held without heartbeats for the whole borrow through a kill of their server, returned early at the leader
/// while that server is down, and ended by themselves.
/// </summary>
[Collection(ShortLeaseCollection.Name)]
public sealed class OfflineBorrowTests(ShortLeaseFixture fixture)
{
    private static readonly TimeSpan Ttl = ShortLeaseFixture.LeaseTtl;
    private readonly PoolCluster _pool = fixture.Pool;

    private static CheckoutRequest Borrow(string leaseId, string client, int count, TimeSpan duration) =>
        new(leaseId, client, count) { BorrowFor = duration };

    private Task<Distribution> PolicyAsync(string code, int maxCount, TimeSpan maxDuration) =>
        _pool.Server(_pool.ServerIds[0], code).SetOfflineBorrowPolicy(new SetOfflineBorrowPolicy(code, maxCount, maxDuration));

    [Fact]
    [Trait("Category", "Fault")]
    public async Task The_max_count_is_pool_wide_so_a_second_servers_borrow_is_refused_borrow_limit()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 6, servers[0], new DistributionCriteria(Even: true, DefaultThreshold: 1.0));

        // Off by default: no borrow until an admin enables it.
        var off = await _pool.Server(servers[1], code).Checkout(Borrow("early", "laptop-0", 1, TimeSpan.FromDays(1)));
        Assert.Equal(LicensingErrors.BorrowLimit, off.DeniedError);

        var invalid = await Assert.ThrowsAsync<LicensingException>(() => PolicyAsync(code, 7, TimeSpan.FromDays(7)));
        Assert.Equal(LicensingErrors.InvalidRequest, invalid.Error);
        Assert.Equal(0, (await _pool.DistributionAsync(code)).OfflineBorrow!.Policy.Version);
        var set = await PolicyAsync(code, 2, TimeSpan.FromDays(7));
        Assert.Equal(new OfflineBorrowPolicy(2, TimeSpan.FromDays(7), 1), set.OfflineBorrow!.Policy);

        var first = await _pool.Server(servers[1], code).Checkout(Borrow("b1", "laptop-1", 2, TimeSpan.FromDays(3)));
        Assert.True(first.Granted && first.Lease!.Borrowed);
        var second = await _pool.Server(servers[2], code).Checkout(Borrow("b2", "laptop-2", 1, TimeSpan.FromDays(1)));
        Assert.Equal((false, LicensingErrors.BorrowLimit), (second.Granted, second.DeniedError));
        var tooLong = await _pool.Server(servers[2], code).Checkout(Borrow("b3", "laptop-3", 1, TimeSpan.FromDays(8)));
        Assert.Equal(LicensingErrors.BorrowLimit, tooLong.DeniedError);

        // A retry of the granted borrow is the same lease; ordinary checkouts are not limited by the policy.
        Assert.Equal(first.Lease, (await _pool.Server(servers[1], code).Checkout(Borrow("b1", "laptop-1", 2, TimeSpan.FromDays(3)))).Lease);
        Assert.True((await _pool.Server(servers[2], code).Checkout(new CheckoutRequest("plain", "desk", 2))).Granted);
        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(2, distribution.OfflineBorrow!.Borrowed);
        Assert.Equal(4, views.Sum(v => v.InUse));

        // Returned at its own server, the permit goes with it: the other server may borrow now.
        Assert.True(await _pool.Server(servers[1], code).Checkin("b1", "laptop-1"));
        Assert.True((await _pool.Server(servers[2], code).Checkout(Borrow("b2", "laptop-2", 1, TimeSpan.FromDays(1)))).Granted);
        Assert.Equal(1, (await _pool.DistributionAsync(code)).OfflineBorrow!.Borrowed);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_borrow_outlives_several_lease_ttls_without_heartbeats_a_heartbeat_never_shortens_it_and_it_ends_by_itself()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var server = _pool.Server(servers[1], code);
        await _pool.AddCodeAsync(code, 2, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[1]] = 2 }, DefaultThreshold: 1.0));
        await PolicyAsync(code, 1, TimeSpan.FromDays(1));
        var borrowFor = 4 * Ttl;
        var lease = (await server.Checkout(Borrow("roam", "laptop", 1, borrowFor))).Lease!;
        Assert.Equal(lease.ExpiresAt, lease.RenewAfter);
        Assert.True(lease.ExpiresAt - DateTimeOffset.UtcNow > 3 * Ttl, $"ends {lease.ExpiresAt:O}");

        // A heartbeat answers the same end: it never moves it to now + TTL.
        Assert.Equal(lease.ExpiresAt, (await server.Update(new LeaseUpdate("roam", "laptop", 1, servers[1]))).ExpiresAt);

        // Two and a half TTLs without a heartbeat: still held (an ordinary lease is gone after one).
        await DelayUntilAsync(lease.ExpiresAt - 1.5 * Ttl);
        Assert.Equal(["roam"], (await server.GetView()).Leases.Select(l => l.LeaseId));
        Assert.Equal(1, (await _pool.DistributionAsync(code)).OfflineBorrow!.Borrowed);
        Assert.Equal(LicensingErrors.BorrowLimit, (await server.Checkout(Borrow("second", "other", 1, Ttl))).DeniedError);

        // At its end it returns by itself: the seat and the permit are free.
        await WaitAsync.UntilAsync(async () => (await server.GetView()).InUse == 0, "borrow ended", 3 * Ttl);
        Assert.True(DateTimeOffset.UtcNow >= lease.ExpiresAt, "the borrow ended before its end");
        Assert.Equal(0, (await _pool.DistributionAsync(code)).OfflineBorrow!.Borrowed);
        Assert.True((await server.Checkout(Borrow("second", "other", 1, Ttl))).Granted);
        Assert.True((await server.Checkout(new CheckoutRequest("plain", "desk", 1))).Granted);
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(2, views.Sum(v => v.InUse));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task The_leader_holds_a_killed_servers_borrow_past_several_ttls_and_an_early_return_at_the_leader_frees_it()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (other, victim) = (servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 3, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [victim] = 3 }, DefaultThreshold: 1.0));
        await PolicyAsync(code, 2, TimeSpan.FromDays(7));
        Assert.True((await _pool.Server(victim, code).Checkout(Borrow("away", "laptop", 2, TimeSpan.FromDays(3)))).Granted);
        Assert.True((await _pool.Server(victim, code).Checkout(new CheckoutRequest("desk", "pc", 1))).Granted);

        await _pool.KillAsync(victim);
        try
        {
            await _pool.WaitUntilDownAsync(code, victim);
            var fencedAt = DateTimeOffset.UtcNow;

            // The ordinary lease is held one TTL from the fence; the borrow stays held after several.
            await WaitAsync.UntilAsync(async () => (await _pool.DistributionAsync(code))[victim]!.Held == 2, "ordinary lease released", 3 * Ttl);
            await DelayUntilAsync(fencedAt + 3 * Ttl);
            await _pool.Pool(code).RefreshMembership();
            Assert.Equal(2, (await _pool.DistributionAsync(code))[victim]!.Held);
            Assert.False((await _pool.Server(other, code).Checkout(new CheckoutRequest("needs-two", "x", 2))).Granted);
            Assert.True((await _pool.Server(other, code).Checkout(new CheckoutRequest("one", "y", 1))).Granted);
            var (held, _) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal(2, held.OfflineBorrow!.Borrowed);

            // A borrow does not fail over: a heartbeat for it at another server moves nothing.
            var failover = await Assert.ThrowsAsync<LicensingException>(() => _pool.Server(other, code).Update(new LeaseUpdate("away", "laptop", 2, victim)));
            Assert.Equal(LicensingErrors.LeaseUnknown, failover.Error);
            Assert.Equal(2, (await _pool.DistributionAsync(code))[victim]!.Held);

            // Returned early while its server is down: only its client may, and then the seat and the permit are free.
            Assert.False(await _pool.Pool(code).ReturnOfflineBorrow("away", "someone-else", victim));
            Assert.False(await _pool.Pool(code).ReturnOfflineBorrow("desk", "pc", victim));
            Assert.True(await _pool.Pool(code).ReturnOfflineBorrow("away", "laptop", victim));
            var (returned, _) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal((0, 0), (returned[victim]!.Held, returned.OfflineBorrow!.Borrowed));
            Assert.True((await _pool.Server(other, code).Checkout(new CheckoutRequest("needs-two", "x", 2))).Granted);
        }
        finally
        {
            await _pool.RestartAsync(victim);
        }

        // Back, the victim drops the borrow returned at the leader: its seat is counted elsewhere now.
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Empty(views.Single(v => v.ServerId == victim).Leases);
        Assert.Equal(3, views.Sum(v => v.InUse));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_borrow_survives_a_restart_of_its_server_and_is_counted_once_when_it_is_back()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var victim = servers[1];
        await _pool.AddCodeAsync(code, 2, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [victim] = 2 }, DefaultThreshold: 1.0));
        await PolicyAsync(code, 1, TimeSpan.FromDays(7));
        var lease = (await _pool.Server(victim, code).Checkout(Borrow("kept", "laptop", 1, TimeSpan.FromDays(2)))).Lease!;

        await _pool.KillAsync(victim);
        try
        {
            await _pool.WaitUntilDownAsync(code, victim);
            Assert.Equal(1, (await _pool.DistributionAsync(code))[victim]!.Held);
        }
        finally
        {
            await _pool.RestartAsync(victim);
        }

        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        var back = views.Single(v => v.ServerId == victim);
        Assert.Equal([lease with { RenewAfter = lease.ExpiresAt }], back.Leases);
        Assert.Equal((ServerStatus.Up, 0, 1), (distribution[victim]!.Status, distribution[victim]!.Held, distribution.OfflineBorrow!.Borrowed));
        Assert.True(await _pool.Server(victim, code).Checkin("kept", "laptop"));
        await WaitAsync.UntilAsync(async () => (await _pool.DistributionAsync(code)).OfflineBorrow!.Borrowed == 0, "permit released");
        await Invariants.CheckAsync(_pool, code);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task An_administrators_release_of_a_borrow_gives_its_permit_back()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 4, servers[0], new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        await PolicyAsync(code, 1, TimeSpan.FromDays(7));
        Assert.True((await _pool.Server(servers[1], code).Checkout(Borrow("kept", "laptop-1", 1, TimeSpan.FromDays(3)))).Granted);

        var released = await _pool.Server(servers[1], code).Release(new ReleaseLease("kept", "key-admin", "laptop lost"));

        Assert.NotNull(released);
        Assert.Equal(0, (await _pool.DistributionAsync(code)).OfflineBorrow!.Borrowed);
        Assert.True((await _pool.Server(servers[2], code).Checkout(Borrow("next", "laptop-2", 1, TimeSpan.FromDays(1)))).Granted);
        await Invariants.CheckAsync(_pool, code);
    }
    /// <summary>Lets time pass until <paramref name="moment"/> (a moment already past: at once).</summary>
    private static Task DelayUntilAsync(DateTimeOffset moment) =>
        moment > DateTimeOffset.UtcNow ? Task.Delay(moment - DateTimeOffset.UtcNow) : Task.CompletedTask;
}
