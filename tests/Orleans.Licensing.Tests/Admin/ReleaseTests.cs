using Orleans.Licensing.Usage;

namespace Orleans.Licensing.Tests.Admin;

/// <summary>
/// Who holds what, and a seat released by hand (docs/admin/who-holds-what.md): the owner a client names stays with its
/// lease, a release frees the seat at the lease's server and its client hears <c>lease-released</c>, and every admin
/// change is audited with its actor.
/// </summary>
[Collection(AuditCollection.Name)]
public sealed class ReleaseTests(AuditFixture fixture)
{
    private static readonly LeaseOwner Ada = new("ada", "ws-17", "Ada Lovelace");
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    public async Task The_owner_and_the_first_grant_time_stay_with_a_lease_across_renewals()
    {
        var code = PoolCluster.NewCode("owner");
        var server = _pool.ServerIds[0];
        await _pool.AddCodeAsync(code, 3, server);
        var lease = (await _pool.Server(server, code).Checkout(new CheckoutRequest("owned", "cad-1", 1, Owner: Ada))).Lease!;
        Assert.Equal(Ada, lease.Owner);
        Assert.NotNull(lease.CheckedOutAt);

        // A heartbeat that names another owner (or none) changes neither: the checkout's word stays.
        await Task.Delay(20);
        var renewed = await _pool.Server(server, code).Update(new LeaseUpdate("owned", "cad-1", 1, server, new LeaseOwner("mallory")));
        renewed = await _pool.Server(server, code).Update(new LeaseUpdate("owned", "cad-1", 1, server));
        Assert.Equal(Ada, renewed.Owner);
        Assert.Equal(lease.CheckedOutAt, renewed.CheckedOutAt);
        Assert.True(renewed.ExpiresAt > lease.ExpiresAt);

        var (_, views) = await Invariants.CheckAsync(_pool, code);
        var listed = views.Single(v => v.ServerId == server).Leases.Single();
        Assert.Equal((Ada, lease.CheckedOutAt), (listed.Owner, listed.CheckedOutAt));
        var checkout = await AuditFixture.Store.AwaitAsync(code, e => e.Kind == UsageKinds.Checkout, "checkout row");
        Assert.Equal(("ada", "ws-17"), (checkout.OwnerUser, checkout.OwnerHost));
    }

    [Fact]
    public async Task An_owner_part_with_control_characters_or_too_long_is_refused_and_nothing_is_granted()
    {
        var code = PoolCluster.NewCode("owner-bad");
        var server = _pool.ServerIds[0];
        await _pool.AddCodeAsync(code, 3, server);
        foreach (var owner in new[] { new LeaseOwner("ada\n"), new LeaseOwner(Host: new string('h', Limits.MaxOwnerPartLength + 1)) })
        {
            var refused = await Assert.ThrowsAsync<LicensingException>(() => _pool.Server(server, code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "c", 1, Owner: owner)));
            Assert.Equal(LicensingErrors.InvalidRequest, refused.Error);
        }

        Assert.Equal(0, (await _pool.Server(server, code).GetUsage()).InUse);
    }

    [Fact]
    public async Task A_released_lease_frees_its_seat_its_client_hears_lease_released_and_the_release_is_audited()
    {
        var code = PoolCluster.NewCode("release");
        var servers = _pool.ServerIds;
        var home = servers[0];
        await _pool.AddCodeAsync(code, 2, home, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [home] = 2, [servers[1]] = 0, [servers[2]] = 0 }, DefaultThreshold: 1.0));
        var grain = _pool.Server(home, code);
        var stuck = (await grain.Checkout(new CheckoutRequest("stuck", "cad-1", 2, Owner: Ada))).Lease!;

        // Every seat is taken: another checkout is denied.
        Assert.False((await grain.Checkout(new CheckoutRequest("waiting-1", "cad-2", 1))).Granted);

        var released = await grain.Release(new ReleaseLease("stuck", "key-admin", "left for the day"));
        Assert.Equal(("stuck", "cad-1", 2, Ada), (released!.LeaseId, released.ClientId, released.Count, released.Owner));

        // The seat is back in the server's room: the checkout denied before is granted now.
        Assert.True((await grain.Checkout(new CheckoutRequest("waiting-2", "cad-2", 1))).Granted);

        // The released client's heartbeat, a retried checkout of the same id and a second release all hear "released".
        var heartbeat = await Assert.ThrowsAsync<LicensingException>(() => grain.Update(new LeaseUpdate("stuck", "cad-1", 2, home)));
        Assert.Equal(LicensingErrors.LeaseReleased, heartbeat.Error);
        var retried = await Assert.ThrowsAsync<LicensingException>(() => grain.Checkout(new CheckoutRequest("stuck", "cad-1", 2)));
        Assert.Equal(LicensingErrors.LeaseReleased, retried.Error);
        var again = await Assert.ThrowsAsync<LicensingException>(() => grain.Release(new ReleaseLease("stuck", "key-admin")));
        Assert.Equal(LicensingErrors.LeaseReleased, again.Error);

        // An unknown lease, or one another server holds, is not this server's to release.
        Assert.Null(await grain.Release(new ReleaseLease("never-was", "key-admin")));
        Assert.Null(await _pool.Server(servers[1], code).Release(new ReleaseLease("waiting-2", "key-admin")));

        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(1, views.Single(v => v.ServerId == home).InUse);
        Assert.Equal(2, distribution[home]!.Allocated);

        var row = await AuditFixture.Store.AwaitAsync(code, e => e.Kind == UsageKinds.Release, "release row");
        Assert.Equal(("stuck", "cad-1", 2, "key-admin", "left for the day", "ada", "ws-17", home),
            (row.LeaseId, row.ClientId, row.Count, row.Actor, row.Detail, row.OwnerUser, row.OwnerHost, row.ServerId));
        Assert.NotNull(stuck.CheckedOutAt);
    }

    [Fact]
    public async Task Every_admin_change_is_audited_with_its_actor()
    {
        var code = PoolCluster.NewCode("actor");
        var server = _pool.ServerIds[1];
        await _pool.Server(server, code).AddLicenseCode(new AddLicenseCode(await _pool.CodeGrantAsync(code, 4), Actor: "key-ops"));
        var allocations = await _pool.AllocationsAsync(code, 3);
        await _pool.Server(server, code).AddAllocations(allocations with { Actor = "jwt:alice" });
        await _pool.Server(server, code).ChangeDistributionCriteria(new ChangeDistributionCriteria(code, new DistributionCriteria(Even: true), "local-admin"));

        var added = await AuditFixture.Store.AwaitAsync(code, e => e.Kind == UsageKinds.CodeAdded, "code-added row");
        var more = await AuditFixture.Store.AwaitAsync(code, e => e.Kind == UsageKinds.AllocationsAdded, "allocations-added row");
        var changed = await AuditFixture.Store.AwaitAsync(code, e => e.Kind == UsageKinds.DistributionChanged, "distribution-changed row");
        Assert.Equal(("key-ops", 4), (added.Actor, added.Count));
        Assert.Equal(("jwt:alice", 3), (more.Actor, more.Count));
        Assert.Equal("local-admin", changed.Actor);
        await Invariants.CheckAsync(_pool, code);
    }

    [Fact]
    public async Task The_owner_goes_with_a_lease_that_fails_over_and_the_leader_lists_what_it_holds_meanwhile()
    {
        var code = PoolCluster.NewCode("owner-fo");
        var servers = _pool.ServerIds;
        var (leader, adopter, origin) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [leader] = 2, [adopter] = 2, [origin] = 2 }, DefaultThreshold: 1.0));
        await _pool.Server(origin, code).Checkout(new CheckoutRequest("travels", "cad-9", 2, Owner: Ada));

        await _pool.KillAsync(origin);
        try
        {
            await _pool.WaitUntilDownAsync(code, origin);
            var held = await _pool.Pool(code).GetHeldLeases();
            var view = Assert.Single(held);
            Assert.Equal((origin, "travels", "cad-9", 2), (view.ServerId, view.LeaseId, view.ClientId, view.Count));

            // The client's heartbeat carries its owner, so the adopter knows who holds the lease.
            var adopted = await _pool.Server(adopter, code).Update(new LeaseUpdate("travels", "cad-9", 2, origin, Ada));
            Assert.Equal((adopter, Ada), (adopted.ServerId, adopted.Owner));
            Assert.NotNull(adopted.CheckedOutAt);
            Assert.Empty(await _pool.Pool(code).GetHeldLeases());
            var renewed = await _pool.Server(adopter, code).Update(new LeaseUpdate("travels", "cad-9", 2, adopter));
            Assert.Equal((Ada, adopted.CheckedOutAt), (renewed.Owner, renewed.CheckedOutAt));
        }
        finally
        {
            await _pool.RestartAsync(origin);
        }

        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(Ada, views.Single(v => v.ServerId == adopter).Leases.Single().Owner);
    }
}
