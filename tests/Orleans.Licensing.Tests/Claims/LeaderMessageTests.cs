namespace Orleans.Licensing.Tests.Claims;

/// <summary>
/// The leader stores the distribution, takes admin messages received by any server, and sends a distribution criteria
/// sync to every functioning server after each change (claims 4, 6–12, 20–26).
/// </summary>
[Collection(PoolCollection.Name)]
public sealed class LeaderMessageTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    /// <summary>Every functioning server applied <paramref name="distribution"/>'s version and holds its row.</summary>
    private async Task AssertSyncedAsync(string code, Distribution distribution)
    {
        var (current, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(distribution.Version, current.Version);
        Assert.Equal(_pool.ServerIds.Count, views.Count);
        foreach (var view in views)
        {
            Assert.Equal(distribution.Version, view.AppliedVersion);
            Assert.Equal(distribution[view.ServerId]!.Allocated, view.Allocated);
        }
    }

    [Fact]
    [Trait("Claim", "4")]
    public async Task The_leader_stores_the_distribution_of_all_servers_and_it_survives_the_leader_being_deactivated()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var added = await _pool.AddCodeAsync(code, 10, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [servers[0]] = 2, [servers[1]] = 3, [servers[2]] = 4 }));
        Assert.Equal(servers, added.Servers.Select(s => s.ServerId).ToList());
        Assert.Equal([2, 3, 4], added.Servers.Select(s => s.Allocated).ToList());
        Assert.Equal(1, added.FreePool);

        await _pool.Cluster.DeactivateAsync(_pool.Pool(code));
        var reloaded = await _pool.DistributionAsync(code);
        Assert.Equal([2, 3, 4], reloaded.Servers.Select(s => s.Allocated).ToList());
        Assert.Equal(1, reloaded.FreePool);
        Assert.Equal(added.Version, reloaded.Version);
    }

    [Fact]
    [Trait("Claim", "6")]
    [Trait("Claim", "20")]
    public async Task After_a_borrow_every_functioning_server_receives_the_distribution_criteria_sync()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 12, servers[0], new DistributionCriteria(Even: true, DefaultThreshold: 1.0, FreePoolReserve: 3));
        var before = await _pool.DistributionAsync(code);
        Assert.Equal(3, before.FreePool);

        for (var i = 0; i < 4; i++)
        {
            Assert.True((await _pool.Server(servers[2], code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "c", 1))).Granted);
        }

        var after = await _pool.DistributionAsync(code);
        Assert.Equal(before.Version + 1, after.Version);
        Assert.Equal(4, after[servers[2]]!.Allocated);
        Assert.Equal(2, after.FreePool);
        await AssertSyncedAsync(code, after);
    }

    [Fact]
    [Trait("Claim", "7")]
    [Trait("Claim", "21")]
    public async Task A_change_distribution_criteria_message_stores_the_new_distribution()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 12, servers[0]);
        var changed = await _pool.Pool(code).ChangeDistributionCriteria(new ChangeDistributionCriteria(code, new DistributionCriteria(
            Weights: new Dictionary<string, int> { [servers[0]] = 1, [servers[1]] = 2, [servers[2]] = 3 },
            Thresholds: new Dictionary<string, double> { [servers[2]] = 0.6 })));
        Assert.Equal([2, 4, 6], changed.Servers.Select(s => s.Allocated).ToList());
        Assert.Equal([2, 4, 6], changed.Servers.Select(s => s.BaseShare).ToList());
        Assert.Equal(0.6, changed[servers[2]]!.Threshold);
        Assert.Equal(0, changed.FreePool);

        await _pool.Cluster.DeactivateAsync(_pool.Pool(code));
        var stored = await _pool.DistributionAsync(code);
        Assert.Equal([2, 4, 6], stored.Servers.Select(s => s.Allocated).ToList());
        Assert.Equal(0.6, stored[servers[2]]!.Threshold);
    }

    [Fact]
    [Trait("Claim", "7")]
    [Trait("Claim", "21")]
    public async Task A_new_distribution_never_takes_allocations_that_are_in_use()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 9, servers[0], new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        for (var i = 0; i < 2; i++)
        {
            Assert.True((await _pool.Server(servers[1], code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "c", 1))).Granted);
        }

        // Ask for zero at servers[1]: it gives its one unused allocation and keeps the two in use.
        var changed = await _pool.Pool(code).ChangeDistributionCriteria(new ChangeDistributionCriteria(code, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [servers[0]] = 4, [servers[1]] = 0, [servers[2]] = 4 }, DefaultThreshold: 1.0)));
        Assert.Equal(2, changed[servers[1]]!.Allocated);
        Assert.Equal(4, changed[servers[0]]!.Allocated);
        Assert.Equal(3, changed[servers[2]]!.Allocated);
        Assert.Equal(0, changed.FreePool);
        await AssertSyncedAsync(code, changed);
    }

    [Fact]
    [Trait("Claim", "8")]
    [Trait("Claim", "22")]
    public async Task A_change_distribution_criteria_message_sent_to_a_non_leader_server_reaches_the_leader_and_is_synced()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var added = await _pool.AddCodeAsync(code, 10, servers[0]);
        Assert.Equal(servers[0], added.LeaderServerId);

        var changed = await _pool.Server(servers[2], code).ChangeDistributionCriteria(new ChangeDistributionCriteria(code, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [servers[0]] = 1, [servers[1]] = 2, [servers[2]] = 5 })));
        Assert.Equal(servers[0], changed.LeaderServerId);
        Assert.Equal([1, 2, 5], changed.Servers.Select(s => s.Allocated).ToList());
        Assert.Equal(2, changed.FreePool);
        await AssertSyncedAsync(code, changed);
    }

    [Fact]
    [Trait("Claim", "9")]
    [Trait("Claim", "23")]
    public async Task An_add_allocations_message_adds_the_count_to_the_pool()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 6, servers[0]);
        var added = await _pool.Pool(code).AddAllocations(await _pool.AllocationsAsync(code, 4));
        Assert.Equal(10, added.Total);
        Assert.Equal(10, added.License.Seats);
        Assert.Equal(4, added.FreePool);
        Assert.Equal(6, added.AllocatedSum);

        // A vendor's tool refuses to sign a count below one; a grant that says so anyway is malformed.
        var zero = await Assert.ThrowsAsync<LicensingException>(async () => await _pool.Pool(code).AddAllocations(new AddAllocations(code, TestGrants.Forge(await _pool.PoolIdAsync(), code, 0))));
        Assert.Equal(LicensingErrors.GrantMalformed, zero.Error);
        Assert.Equal(10, (await _pool.DistributionAsync(code)).Total);
    }

    [Fact]
    [Trait("Claim", "9")]
    public async Task A_signed_grant_applies_once_even_after_the_leader_reactivates()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 6, servers[0]);
        var grant = await _pool.AllocationsAsync(code, 4, grantId: "grant-1");
        var added = await _pool.Pool(code).AddAllocations(grant);
        Assert.Equal(10, added.Total);

        var replayed = await Assert.ThrowsAsync<LicensingException>(() => _pool.Server(servers[1], code).AddAllocations(grant));
        Assert.Equal(LicensingErrors.GrantReplayed, replayed.Error);
        await _pool.Cluster.DeactivateAsync(_pool.Pool(code));
        replayed = await Assert.ThrowsAsync<LicensingException>(() => _pool.Pool(code).AddAllocations(grant));
        Assert.Equal(LicensingErrors.GrantReplayed, replayed.Error);

        // Another grant under the same id (signed again) is the same grant to the leader.
        replayed = await Assert.ThrowsAsync<LicensingException>(async () => await _pool.Pool(code).AddAllocations(await _pool.AllocationsAsync(code, 7, grantId: "grant-1")));
        Assert.Equal(LicensingErrors.GrantReplayed, replayed.Error);

        var after = await _pool.DistributionAsync(code);
        Assert.Equal(10, after.Total);
        Assert.Equal(added.Version, after.Version);
        Assert.Equal(14, (await _pool.Pool(code).AddAllocations(await _pool.AllocationsAsync(code, 4, grantId: "grant-2"))).Total);
    }

    [Fact]
    [Trait("Claim", "10")]
    [Trait("Claim", "24")]
    public async Task An_add_allocations_message_sent_to_a_non_leader_server_reaches_the_leader_and_is_synced()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 6, servers[0]);
        var added = await _pool.Server(servers[1], code).AddAllocations(await _pool.AllocationsAsync(code, 5));
        Assert.Equal(servers[0], added.LeaderServerId);
        Assert.Equal(11, added.Total);
        Assert.Equal(5, added.FreePool);
        await AssertSyncedAsync(code, added);
    }

    [Fact]
    [Trait("Claim", "11")]
    [Trait("Claim", "25")]
    public async Task An_add_license_code_message_adds_the_code_to_the_pool()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var expires = DateTimeOffset.UtcNow.AddYears(1);
        var license = new LicenseCode(code, "CAD Suite", 7, expires);
        var added = await _pool.Pool(code).AddLicenseCode(new AddLicenseCode(await _pool.CodeGrantAsync(code, 7, "CAD Suite", expires)));
        Assert.Equal(license, added.License);
        Assert.Equal(7, added.Total);
        Assert.Equal(servers, added.Servers.Select(s => s.ServerId).ToList());
        Assert.Equal(6, added.AllocatedSum);
        Assert.Equal(1, added.FreePool);
        Assert.Contains(code, await _pool.Grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes());

        // The same code again (another grant of the same terms) changes nothing; other terms are a conflict.
        var again = await _pool.Pool(code).AddLicenseCode(new AddLicenseCode(await _pool.CodeGrantAsync(code, 7, "CAD Suite", expires)));
        Assert.Equal(added.Version, again.Version);
        var conflict = await Assert.ThrowsAsync<LicensingException>(async () => await _pool.Pool(code).AddLicenseCode(new AddLicenseCode(await _pool.CodeGrantAsync(code, 8, "CAD Suite", expires))));
        Assert.Equal(LicensingErrors.Conflict, conflict.Error);
    }

    [Fact]
    [Trait("Claim", "12")]
    [Trait("Claim", "26")]
    public async Task An_add_license_code_message_sent_to_any_server_reaches_the_leader_and_every_server_gets_the_table()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var added = await _pool.Server(servers[2], code).AddLicenseCode(new AddLicenseCode(await _pool.CodeGrantAsync(code, 5, "p"),
            new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[0]] = 1, [servers[1]] = 1, [servers[2]] = 2 })));
        Assert.Equal(1, added.FreePool);
        await AssertSyncedAsync(code, added);
        Assert.Contains(code, await _pool.Grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes());

        // A code sent to a non-leader server of an existing pool is forwarded to that pool's leader.
        var forwarded = await _pool.Server(servers[1], code).AddLicenseCode(new AddLicenseCode(await _pool.CodeGrantAsync(code, 5, "p")));
        Assert.Equal(added.LeaderServerId, forwarded.LeaderServerId);
        Assert.Equal(added.Version, forwarded.Version);
    }
}
