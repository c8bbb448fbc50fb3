using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Core.Internal;
using Orleans.Storage;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// Every leader activation fences the servers it counts fenced. A down server's journal must not fill with those
/// fences: a StatefulSet scaled down and up again (many leader activations later) must serve its codes again.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class RepeatedFenceTests(FaultFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Category", "Fault")]
    public async Task A_server_that_was_down_through_100_leader_activations_serves_again_when_it_returns()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, victim) = (servers[0], servers[2]);
        await _pool.AddCodeAsync(code, 9, leader);
        Assert.True((await _pool.Server(victim, code).Checkout(new CheckoutRequest("held", "client-held", 1))).Granted);

        await _pool.KillAsync(victim);
        try
        {
            await _pool.WaitUntilDownAsync(code, victim);
            for (var i = 0; i < 100; i++)
            {
                await _pool.Pool(code).Cast<IGrainManagementExtension>().DeactivateOnIdle();
                var distribution = await _pool.DistributionAsync(code);
                Assert.Equal(ServerStatus.Down, distribution[victim]!.Status);
            }

            // One fence per server epoch: the fences replaced each other.
            var storage = _pool.Service<IServiceProvider>(leader).GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
            var options = _pool.Service<IOptions<LicensingOptions>>(leader).Value;
            var (_, leases, journal) = await ServerJournal.LoadAsync(storage, _pool.Server(victim, code).GetGrainId(), options);
            Assert.True(journal.EndsWithFence);
            Assert.True(journal.Sequence - journal.Snapshot <= 3, $"the journal holds {journal.Sequence - journal.Snapshot} entries after the snapshot");
            Assert.Equal(["held"], leases.All.Select(l => l.LeaseId));
        }
        finally
        {
            await _pool.RestartAsync(victim);
        }

        // It rejoins and serves: its own lease renews, and a new checkout is granted there.
        await WaitAsync.UntilAsync(async () =>
        {
            await _pool.Server(victim, code).Update(new LeaseUpdate("held", "client-held", 1, victim));
            return true;
        }, $"{victim} renews its lease after 100 leader activations");
        Assert.True((await _pool.Server(victim, code).Checkout(new CheckoutRequest("after", "client-after", 1))).Granted);
        var (after, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(ServerStatus.Up, after[victim]!.Status);
        Assert.Equal(2, views.Single(v => v.ServerId == victim).InUse);
    }
}
