using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>Retried borrows, give-ups and checkouts move nothing twice; a stale write is never swallowed.</summary>
[Collection(PoolCollection.Name)]
public sealed class IdempotencyTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    public async Task A_retried_borrow_with_the_same_operation_id_is_granted_once()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 10, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int>()));
        var request = new BorrowRequest(Guid.NewGuid(), servers[1], 3, BorrowReason.ClientRequest, 0);
        var first = await _pool.Pool(code).Borrow(request);
        var retried = await _pool.Pool(code).Borrow(request);
        Assert.Equal(3, first.Granted);
        Assert.Equal(3, retried.Granted);
        var distribution = await _pool.DistributionAsync(code);
        Assert.Equal(3, distribution[servers[1]]!.Allocated);
        Assert.Equal(7, distribution.FreePool);
    }

    [Fact]
    [Trait("Claim", "33")]
    public async Task A_retried_give_up_with_the_same_operation_id_gives_once()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var added = await _pool.AddCodeAsync(code, 10, servers[0], new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[1]] = 6 }));
        var transfer = new GiveUpRequest(Guid.NewGuid(), 4, GiveUpMode.Unused, added.Version, 6, added.Version + 1);
        var first = await _pool.Server(servers[1], code).GiveUp(transfer);
        var retried = await _pool.Server(servers[1], code).GiveUp(transfer);
        Assert.Equal(4, first.Given);
        Assert.Equal(first, retried);
        Assert.Equal(2, (await _pool.Server(servers[1], code).GetView()).Allocated);
    }

    [Fact]
    public async Task A_retried_checkout_with_the_same_lease_id_grants_one_lease()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 6, servers[0]);
        var request = new CheckoutRequest("same-lease", "client", 2);
        var first = await _pool.Server(servers[1], code).Checkout(request);
        var retried = await _pool.Server(servers[1], code).Checkout(request);
        Assert.Equal(first.Lease!.LeaseId, retried.Lease!.LeaseId);
        Assert.Equal(2, (await _pool.Server(servers[1], code).GetView()).InUse);
        var conflict = await Assert.ThrowsAsync<LicensingException>(() => _pool.Server(servers[1], code).Checkout(request with { Count = 1 }));
        Assert.Equal(LicensingErrors.Conflict, conflict.Error);
    }

    [Fact]
    public async Task A_write_over_a_newer_stored_record_fails_with_InconsistentStateException_and_the_server_reloads()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var serverId = servers[2];
        await _pool.AddCodeAsync(code, 6, servers[0]);
        var server = _pool.Server(serverId, code);
        Assert.True((await server.Checkout(new CheckoutRequest("before", "c", 1))).Granted);

        // Another activation (as during a failure) loads the same state and appends the next journal entry first.
        var storage = _pool.Service<IServiceProvider>(serverId).GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        var options = _pool.Service<IOptions<LicensingOptions>>(serverId).Value;
        var (stored, leases, journal) = await ServerJournal.LoadAsync(storage, server.GetGrainId(), options);
        var sequence = journal.Sequence;
        await journal.AppendAsync(stored with { }, leases);
        Assert.Equal(sequence + 1, journal.Sequence);

        // The stale activation's next write fails, loudly, and nothing of it is acknowledged.
        await Assert.ThrowsAsync<InconsistentStateException>(() => server.Checkout(new CheckoutRequest("stale", "c", 1)));

        // The grain starts over from storage: the acknowledged lease is there, the failed one is not.
        await WaitAsync.UntilAsync(async () => (await server.GetView()).Leases.Select(l => l.LeaseId).SequenceEqual(["before"]), "reloaded from storage");
        Assert.True((await server.Checkout(new CheckoutRequest("after", "c", 1))).Granted);
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(["after", "before"], views.Single(v => v.ServerId == serverId).Leases.Select(l => l.LeaseId));
    }
}
