using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Orleans.Licensing.Tests.Units;

/// <summary>
/// The fence against a busy server (real grain storage of a test silo): each time the server writes the slot the fence
/// was about to write, the fence reads that entry and tries the next slot, as long as it takes.
/// </summary>
[Collection(PoolCollection.Name)]
public sealed class JournalFenceTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_fence_overtaken_twenty_times_by_the_server_still_fences_and_reads_every_lease()
    {
        var serverId = _pool.ServerIds[0];
        var inner = _pool.Service<IServiceProvider>(serverId).GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        var grainId = _pool.Server("busy", PoolCluster.NewCode()).GetGrainId();
        var options = new LicensingOptions();
        var (record, leases, journal) = await ServerJournal.LoadAsync(inner, grainId, options);
        var overtaking = new OvertakingStorage(inner, 20, async n =>
        {
            leases.Put(new LeaseRecord($"lease-{n}", "client", 1, DateTimeOffset.UtcNow.AddMinutes(5)));
            await journal.AppendAsync(record, leases);
            if (journal.ShouldCompact) await journal.CompactAsync(leases);
        });

        var (_, fenced, _) = await JournalFence.FenceAsync(overtaking, grainId, options);
        Assert.Equal(20, overtaking.Overtaken);
        Assert.Equal(Enumerable.Range(1, 20).Select(n => $"lease-{n}").Order(StringComparer.Ordinal), fenced.All.Select(l => l.LeaseId).Order(StringComparer.Ordinal));

        // The server acknowledges nothing more: its next append fails.
        leases.Put(new LeaseRecord("after-fence", "client", 1, DateTimeOffset.UtcNow.AddMinutes(5)));
        await Assert.ThrowsAnyAsync<InconsistentStateException>(() => journal.AppendAsync(record, leases));
    }

    /// <summary>Lets the server append an entry just before each of the fence's first writes.</summary>
    private sealed class OvertakingStorage(IGrainStorage inner, int times, Func<int, Task> serverAppends) : IGrainStorage
    {
        public int Overtaken { get; private set; }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (grainState.State is JournalEntry { Fence: true } && Overtaken < times) await serverAppends(++Overtaken);
            await inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
