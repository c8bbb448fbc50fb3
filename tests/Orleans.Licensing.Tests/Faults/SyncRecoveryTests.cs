using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>A leader that died after writing a change but before its sync went out: the next leader sends it.</summary>
[Collection(PoolCollection.Name)]
public sealed class SyncRecoveryTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "6")]
    [Trait("Category", "Fault")]
    public async Task A_new_leader_activation_sends_the_stored_distribution_to_every_functioning_server()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var added = await _pool.AddCodeAsync(code, 10, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[1]] = 2 }));
        await Invariants.CheckAsync(_pool, code);
        await _pool.Cluster.DeactivateAsync(_pool.Pool(code));

        // A change written by a leader whose sync never left: 3 more for servers[1], version + 1.
        var storage = _pool.Service<IServiceProvider>(servers[0]).GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        var state = new GrainState<PoolState>(new PoolState());
        await storage.ReadStateAsync("pool", _pool.Pool(code).GetGrainId(), state);
        state.State!.Servers[servers[1]].Allocated += 3;
        state.State.FreePool -= 3;
        state.State.Version++;
        await storage.WriteStateAsync("pool", _pool.Pool(code).GetGrainId(), state);
        Assert.Equal(added.Version, (await _pool.Server(servers[1], code).GetView()).AppliedVersion);

        // The next activation of the leader syncs everyone without any new change.
        var distribution = await _pool.DistributionAsync(code);
        Assert.Equal(added.Version + 1, distribution.Version);
        await WaitAsync.UntilAsync(async () => (await _pool.Server(servers[1], code).GetView()) is { AppliedVersion: var v, Allocated: 5 } && v == distribution.Version, "re-synced");
        await Invariants.CheckAsync(_pool, code);
    }
}
