using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Tests.Grants;

/// <summary>A pool of its own (one server): the trial cap counts every code of the pool, and grants of other pools do not apply.</summary>
public sealed class TrialFixture : ClusterFixture
{
    public TrialFixture() : base(o =>
    {
        o.LeaseTtl = TimeSpan.FromMinutes(5);
        o.RedistributeInterval = TimeSpan.Zero;
    })
    {
    }
}

[CollectionDefinition(Name)]
public sealed class TrialCollection : ICollectionFixture<TrialFixture>, ICollectionFixture<PoolFixture>
{
    public const string Name = "trial";
}

[Collection(TrialCollection.Name)]
public sealed class TrialTests(TrialFixture trial, PoolFixture other)
{
    private readonly PoolCluster _pool = trial.Pool;

    [Fact]
    public async Task Trial_seats_are_capped_at_ten_per_pool_across_codes_and_a_grant_of_another_pool_does_not_apply()
    {
        var poolId = await _pool.PoolIdAsync();
        var otherPoolId = await other.Pool.PoolIdAsync();
        Assert.NotEqual(otherPoolId, poolId);
        var server = _pool.ServerIds[0];

        // A grant that the other pool applies is refused here, and changes nothing here.
        var code = PoolCluster.NewCode("trial");
        var foreign = TestGrants.Code(otherPoolId, code, 4);
        Assert.Equal(4, (await other.Pool.Server(other.Pool.ServerIds[0], code).AddLicenseCode(new AddLicenseCode(foreign))).Total);
        var wrongPool = await Assert.ThrowsAsync<LicensingException>(() => _pool.Server(server, code).AddLicenseCode(new AddLicenseCode(foreign)));
        Assert.Equal(LicensingErrors.GrantWrongPool, wrongPool.Error);
        Assert.Null(await _pool.Pool(code).GetDistribution());

        // Trial: 6 + 3 seats of two codes, then 2 more is past ten.
        var first = await _pool.Server(server, code).AddLicenseCode(new AddLicenseCode(TestGrants.Code(poolId, code, 6, key: TestGrants.Trial)));
        Assert.True(first.License.Trial);
        var second = PoolCluster.NewCode("trial");
        Assert.Equal(3, (await _pool.Server(server, second).AddLicenseCode(new AddLicenseCode(TestGrants.Code(poolId, second, 3, key: TestGrants.Trial)))).Total);
        var before = await _pool.DistributionAsync(code);
        var capped = await Assert.ThrowsAsync<LicensingException>(() => _pool.Pool(code).AddAllocations(
            new AddAllocations(code, TestGrants.Allocations(poolId, code, 2, TestGrants.Trial))));
        Assert.Equal(LicensingErrors.TrialLimit, capped.Error);
        var third = PoolCluster.NewCode("trial");
        capped = await Assert.ThrowsAsync<LicensingException>(() => _pool.Pool(third).AddLicenseCode(new AddLicenseCode(TestGrants.Code(poolId, third, 2, key: TestGrants.Trial))));
        Assert.Equal(LicensingErrors.TrialLimit, capped.Error);
        var after = await _pool.DistributionAsync(code);
        Assert.Equal((before.Total, before.FreePool, before.Version), (after.Total, after.FreePool, after.Version));
        Assert.Null(await _pool.Pool(third).GetDistribution());

        // The tenth seat fits; a vendor key's seats are not capped, and the count survives the catalog reactivating.
        await _pool.Cluster.DeactivateAsync(_pool.Grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key));
        Assert.Equal(9, await _pool.Grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetTrialSeats());
        Assert.Equal(7, (await _pool.Pool(code).AddAllocations(new AddAllocations(code, TestGrants.Allocations(poolId, code, 1, TestGrants.Trial)))).Total);
        Assert.Equal(107, (await _pool.Pool(code).AddAllocations(new AddAllocations(code, TestGrants.Allocations(poolId, code, 100)))).Total);
        Assert.Equal(10, await _pool.Grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetTrialSeats());
        Assert.True((await _pool.DistributionAsync(code)).License.Trial);
    }
}
