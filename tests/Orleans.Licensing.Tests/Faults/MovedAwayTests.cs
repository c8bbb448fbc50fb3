using Orleans.Core.Internal;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// A server remembers, durably, the leases that moved from it to an adopter; and a late, older sync never drops a lease
/// that moved back since.
/// </summary>
[Collection(PoolCollection.Name)]
public sealed class MovedAwayTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Category", "Fault")]
    public async Task A_client_that_comes_home_after_its_lease_moved_away_is_not_refused_after_its_home_server_reloaded()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (home, adopter) = (servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, servers[0]);
        Assert.True((await _pool.Server(home, code).Checkout(new CheckoutRequest("roaming", "client-roaming", 1))).Granted);
        Assert.Equal(adopter, (await _pool.Server(adopter, code).Update(new LeaseUpdate("roaming", "client-roaming", 1, home))).ServerId);

        // The client did not hear that answer and comes home; meanwhile its home server's grain reloaded.
        await _pool.Server(home, code).Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var back = await _pool.Server(home, code).Update(new LeaseUpdate("roaming", "client-roaming", 1, home));
        Assert.Equal(home, back.ServerId);
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(["roaming"], views.Single(v => v.ServerId == home).Leases.Select(l => l.LeaseId));
        Assert.Empty(views.Single(v => v.ServerId == adopter).Leases);
    }

    [Fact]
    [Trait("Claim", "6")]
    [Trait("Category", "Fault")]
    public async Task A_sync_older_than_the_one_applied_does_not_drop_a_lease_by_its_list_of_adoptions()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (home, other) = (servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, servers[0]);
        Assert.True((await _pool.Server(home, code).Checkout(new CheckoutRequest("kept", "client-kept", 1))).Granted);
        var current = await _pool.DistributionAsync(code);
        Assert.True(current.Version >= 1);

        // A sync from long ago (delivered late) said another server had adopted the lease.
        var stale = new DistributionSync(current with { Version = current.Version - 1 }, [new AdoptedLease("kept", home, DateTimeOffset.UtcNow.AddMinutes(5), other)]);
        await _pool.Server(home, code).ApplySync(stale);
        var view = await _pool.Server(home, code).GetView();
        Assert.Equal(["kept"], view.Leases.Select(l => l.LeaseId));
        Assert.Equal(home, (await _pool.Server(home, code).Update(new LeaseUpdate("kept", "client-kept", 1, home))).ServerId);
        await Invariants.CheckAsync(_pool, code);
    }
}
