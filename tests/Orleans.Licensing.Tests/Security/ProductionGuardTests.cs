using Orleans.Licensing.Tests.Infrastructure;

namespace Orleans.Licensing.Tests.Security;

/// <summary>A cluster with the production <see cref="Licensing.Security.ProtocolGuard"/> policy (the other fixtures admit their client).</summary>
public sealed class ProductionGuardFixture : IAsyncLifetime
{
    public PoolCluster Pool { get; } = new(2, o => o.RedistributeInterval = TimeSpan.Zero, productionGuard: true);

    public Task InitializeAsync() => Pool.StartAsync();

    public Task DisposeAsync() => Pool.DisposeAsync().AsTask();
}

/// <summary>
/// The cluster's client is refused the internal protocol and Orleans' management grain; code inside a silo (its
/// hosted client, as the REST layer) and grains calling grains across silos (a borrow) pass.
/// </summary>
public sealed class ProductionGuardTests(ProductionGuardFixture fixture) : IClassFixture<ProductionGuardFixture>
{
    [Fact]
    public async Task The_client_is_refused_the_protocol_while_silos_and_grains_use_it()
    {
        var pool = fixture.Pool;
        var (first, second) = (pool.ServerIds[0], pool.ServerIds[1]);
        var code = PoolCluster.NewCode("guard");
        var inFirst = pool.Service<IGrainFactory>(first);
        var inSecond = pool.Service<IGrainFactory>(second);

        // In-silo code, outside any grain: the hosted client of each silo; the leader lives on the first.
        var added = await inFirst.GetServerGrain(first, code).AddLicenseCode(
            new AddLicenseCode(TestGrants.Code(await inFirst.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetPoolId(), code, 4), new DistributionCriteria(Shares: new Dictionary<string, int> { [first] = 4 })));
        Assert.Equal(4, added[first]!.Allocated);

        // The second server has nothing: its server grain borrows from the leader on the other silo, grain to grain.
        var checkout = await inSecond.GetServerGrain(second, code).Checkout(new CheckoutRequest("guard-lease", "guard-client", 1));
        Assert.NotNull(checkout.Lease);
        Assert.Equal(second, checkout.Lease.ServerId);
        var distribution = await inSecond.GetGrain<IPoolGrain>(code).GetDistribution();
        Assert.Equal(4, distribution!.Total);
        Assert.True(distribution[second]!.Allocated >= 1);
        Assert.Equal(4, distribution.AllocatedSum + distribution.FreePool);

        var poolId = await inFirst.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetPoolId();
        var client = pool.Client;
        foreach (var call in new Func<Task>[]
        {
            () => client.GetServerGrain(second, code).Checkout(new CheckoutRequest("client-lease", "intruder", 1)),
            () => client.GetServerGrain(second, code).Checkin("guard-lease", "guard-client"),
            () => client.GetGrain<IPoolGrain>(code).AddAllocations(new AddAllocations(code, TestGrants.Allocations(poolId, code, 1_000))),
            () => client.GetGrain<IPoolGrain>(code).GetDistribution(),
            () => client.GetGrain<ICatalogGrain>(ICatalogGrain.Key).Add("forged"),
            () => client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true),
        })
        {
            var refused = await Assert.ThrowsAsync<LicensingException>(call);
            Assert.Equal(LicensingErrors.Forbidden, refused.Error);
        }

        var after = await inFirst.GetGrain<IPoolGrain>(code).GetDistribution();
        Assert.Equal(distribution.Version, after!.Version);
        Assert.Equal(4, after.Total);
        Assert.Equal(1, (await inSecond.GetServerGrain(second, code).GetUsage()).InUse);
        Assert.DoesNotContain("forged", await inFirst.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes());
    }
}
