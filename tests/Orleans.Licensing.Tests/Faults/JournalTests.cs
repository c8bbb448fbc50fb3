using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// Claim 33's durability as ServerGrain writes it: one journal entry per commit, a snapshot every half ring. What storage
/// replays must be exactly what the server serves, however often the ring has wrapped.
/// </summary>
[Collection(PoolCollection.Name)]
public sealed class JournalTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "33")]
    [Trait("Category", "Fault")]
    public async Task Storage_replays_to_exactly_the_served_leases_after_the_journal_ring_wrapped_several_times()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 300, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[1]] = 300 }));
        var server = _pool.Server(servers[1], code);

        // One at a time, so that every call is its own commit: 150 checkouts, then 75 check-ins.
        for (var i = 0; i < 150; i++) Assert.True((await server.Checkout(new CheckoutRequest($"j{i}", $"c{i}", 1 + i % 2))).Granted);
        for (var i = 0; i < 150; i += 2) Assert.True(await server.Checkin($"j{i}", $"c{i}"));

        var view = await server.GetView();
        var usage = await server.GetUsage();
        Assert.Equal(75, view.Leases.Count);
        Assert.Equal(75 * 2, view.InUse);
        Assert.Equal((view.Allocated, view.InUse, view.Leases.Count, view.AppliedVersion), (usage.Allocated, usage.InUse, usage.Leases, usage.AppliedVersion));

        var storage = _pool.Service<IServiceProvider>(servers[1]).GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        var options = _pool.Service<IOptions<LicensingOptions>>(servers[1]).Value;
        var (record, leases, journal) = await ServerJournal.LoadAsync(storage, server.GetGrainId(), options);

        Assert.True(journal.Sequence >= 225, $"one entry per sequential commit: {journal.Sequence}");
        Assert.True(journal.Sequence - journal.Snapshot < record.JournalSlots / 2 + 1, $"snapshot {journal.Snapshot} keeps up with entry {journal.Sequence}");
        Assert.Equal(view.Allocated, record.Allocated);
        Assert.Equal(view.InUse, leases.InUse);
        Assert.Equal(
            view.Leases.Select(l => (l.LeaseId, l.ClientId, l.Count, l.ExpiresAt)).OrderBy(l => l.LeaseId, StringComparer.Ordinal),
            leases.All.Select(l => (l.LeaseId, l.ClientId, l.Count, l.ExpiresAt)).OrderBy(l => l.LeaseId, StringComparer.Ordinal));
        await Invariants.CheckAsync(_pool, code);
    }
}
