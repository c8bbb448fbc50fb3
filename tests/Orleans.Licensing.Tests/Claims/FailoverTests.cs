using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Orleans.Licensing.Tests.Claims;

/// <summary>
/// Updates from clients in fail-over mode: the new server adopts the lease, borrowing in the fail-over source order
/// (claims 13–15, 27–29), and a transfer shrinks the giver's stored record before the taker grows (claim 33).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FailoverTests(FaultFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Claim", "27")]
    public async Task An_update_in_fail_over_mode_to_a_server_without_allocations_borrows_and_adopts_the_lease()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (origin, adopter) = (servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [servers[0]] = 2, [origin] = 4, [adopter] = 0 }, DefaultThreshold: 1.0));
        var lease = (await _pool.Server(origin, code).Checkout(new CheckoutRequest("lease-13", "cad-1", 2))).Lease!;

        // The client cannot reach its server and sends its heartbeat to another one.
        var adopted = await _pool.Server(adopter, code).Update(new LeaseUpdate(lease.LeaseId, "cad-1", 2, origin));
        Assert.Equal(lease.LeaseId, adopted.LeaseId);
        Assert.Equal(2, adopted.Count);
        Assert.Equal(adopter, adopted.ServerId);

        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(2, distribution[adopter]!.Allocated);
        Assert.Equal(0, distribution[servers[0]]!.Allocated);

        // The origin is alive here: the leader's sync tells it the lease moved, so it is counted once.
        Assert.Empty(views.Single(v => v.ServerId == origin).Leases);
        Assert.Equal(["lease-13"], views.Single(v => v.ServerId == adopter).Leases.Select(l => l.LeaseId));
    }

    [Fact]
    [Trait("Claim", "14")]
    [Trait("Claim", "28")]
    public async Task Fail_over_borrowing_takes_from_the_leader_server_then_the_free_pool_then_down_servers()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, adopter, origin) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 12, leader, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [leader] = 2, [adopter] = 0, [origin] = 8 }, DefaultThreshold: 1.0));
        await _pool.Server(origin, code).Checkout(new CheckoutRequest("c1", "client-1", 2));
        await _pool.Server(origin, code).Checkout(new CheckoutRequest("c2", "client-2", 3));

        await _pool.KillAsync(origin);
        try
        {
            await _pool.WaitUntilDownAsync(code, origin);
            var down = await _pool.DistributionAsync(code);
            Assert.Equal(5, down[origin]!.Held);

            // client-1 fails over: its 2 allocations come from the leader server's own share first.
            await _pool.Server(adopter, code).Update(new LeaseUpdate("c1", "client-1", 2, origin));
            var first = await _pool.DistributionAsync(code);
            Assert.Equal(0, first[leader]!.Allocated);
            Assert.Equal(2, first.FreePool);
            Assert.Equal(8, first[origin]!.Allocated);
            Assert.Equal(3, first[origin]!.Held);
            Assert.Equal(2, first[adopter]!.Allocated);

            // client-2 needs 3: the leader has none, the free pool gives 2, the down server 1.
            await _pool.Server(adopter, code).Update(new LeaseUpdate("c2", "client-2", 3, origin));
            var second = await _pool.DistributionAsync(code);
            Assert.Equal(0, second[leader]!.Allocated);
            Assert.Equal(0, second.FreePool);
            Assert.Equal(7, second[origin]!.Allocated);
            Assert.Equal(0, second[origin]!.Held);
            Assert.Equal(5, second[adopter]!.Allocated);
            var (_, views) = await Invariants.CheckAsync(_pool, code);
            Assert.Equal(["c1", "c2"], views.Single(v => v.ServerId == adopter).Leases.Select(l => l.LeaseId));
        }
        finally
        {
            await _pool.RestartAsync(origin);
        }

        // The origin comes back: it syncs before serving and never counts the adopted leases.
        var (_, after) = await Invariants.CheckAsync(_pool, code);
        var back = after.Single(v => v.ServerId == origin);
        Assert.Empty(back.Leases);
        Assert.Equal(7, back.Allocated);
    }

    [Fact]
    [Trait("Claim", "15")]
    [Trait("Claim", "29")]
    [Trait("Claim", "33")]
    public async Task With_no_other_source_fail_over_borrowing_takes_unused_allocations_of_other_live_servers()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, giver, taker) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(
            Shares: new Dictionary<string, int> { [leader] = 2, [giver] = 4, [taker] = 0 }, DefaultThreshold: 1.0,
            Thresholds: new Dictionary<string, double> { [taker] = 0.5 }));
        await _pool.Server(leader, code).Checkout(new CheckoutRequest("l1", "a", 2));
        await _pool.Server(giver, code).Checkout(new CheckoutRequest("g1", "b", 1));
        await _pool.Server(giver, code).Checkout(new CheckoutRequest("moved", "c", 1));

        // Client c cannot reach the giver and fails over to the taker. The giver drops the lease and its seat goes to the
        // free pool; the taker's threshold (0.5) wants 2 allocations for it: the leader server has none unused, the free
        // pool gives 1, there is no down server, so the last one comes from the unused allocations of the live giver.
        var adopted = await _pool.Server(taker, code).Update(new LeaseUpdate("moved", "c", 1, giver));
        Assert.Equal(taker, adopted.ServerId);

        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(2, distribution[leader]!.Allocated);
        Assert.Equal(2, distribution[giver]!.Allocated);
        Assert.Equal(2, distribution[taker]!.Allocated);
        Assert.Equal(0, distribution.FreePool);
        Assert.Equal(["g1"], views.Single(v => v.ServerId == giver).Leases.Select(l => l.LeaseId));
        Assert.Equal(["moved"], views.Single(v => v.ServerId == taker).Leases.Select(l => l.LeaseId));

        // Claim 33: each server's stored record of the allocations it manages was updated by the transfer.
        Assert.Equal(2, (await StoredRecordAsync(giver, code)).Allocated);
        Assert.Equal(2, (await StoredRecordAsync(taker, code)).Allocated);
    }

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Claim", "27")]
    public async Task Many_clients_failing_over_at_once_are_all_adopted_with_a_few_leader_calls()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (origin, adopterId) = (servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 300, servers[0], new DistributionCriteria(
            Shares: new Dictionary<string, int> { [origin] = 200, [adopterId] = 100 }, DefaultThreshold: 1.0));
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => _pool.Server(origin, code).Checkout(new CheckoutRequest($"fo-{i}", $"client-{i}", 1))));
        var adopter = _pool.Server(adopterId, code);

        // The origin crashes with 200 leases, all of whose clients fail over at once: 100 fit the adopter's room, 100
        // take the seats their leases held at the origin.
        await _pool.KillAsync(origin);
        try
        {
            var adopted = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
                adopter.Update(new LeaseUpdate($"fo-{i}", $"client-{i}", 1, origin))));
            Assert.All(adopted, l => Assert.Equal(adopterId, l.ServerId));
            var view = await adopter.GetView();
            Assert.Equal(200, view.Leases.Count);
            Assert.Equal(200, view.InUse);
            Assert.InRange(view.AdoptionCalls, 1, 50);
            var distribution = await _pool.DistributionAsync(code);
            Assert.Equal(300, distribution.Servers.Sum(s => s.Allocated) + distribution.FreePool);
            Assert.Equal(0, distribution[origin]!.Held);
        }
        finally
        {
            await _pool.RestartAsync(origin);
        }

        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Empty(views.Single(v => v.ServerId == origin).Leases);

        // The leader knows every adoption: a late heartbeat of the same lease at another server is a new adoption there.
        var moved = await _pool.Server(servers[0], code).Update(new LeaseUpdate("fo-7", "client-7", 1, adopterId));
        Assert.Equal(servers[0], moved.ServerId);
        await WaitAsync.UntilAsync(async () => (await adopter.GetView()).Leases.All(l => l.LeaseId != "fo-7"), "the adopter drops the lease adopted again elsewhere");
        var (_, after) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(200, after.Sum(v => v.InUse));
    }

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Claim", "27")]
    public async Task A_fail_over_update_for_a_lease_its_server_does_not_hold_is_refused_and_changes_nothing()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 6, servers[0], new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        foreach (var server in servers) await _pool.Server(server, code).Checkout(new CheckoutRequest($"x-{server}", $"c-{server}", 1));
        var before = await _pool.DistributionAsync(code);

        // A made-up lease id naming a real server, someone else's lease id, the right id with another count, and a
        // server that is not in the pool: none is a checkout in disguise, none takes the lease from its holder.
        foreach (var update in new[]
        {
            new LeaseUpdate("made-up", "d", 1, servers[0]),
            new LeaseUpdate($"x-{servers[0]}", "intruder", 1, servers[0]),
            new LeaseUpdate($"x-{servers[0]}", $"c-{servers[0]}", 2, servers[0]),
            new LeaseUpdate("late", "d", 1, "retired-server"),
        })
        {
            var refused = await Assert.ThrowsAsync<LicensingException>(() => _pool.Server(servers[2], code).Update(update));
            Assert.Equal(LicensingErrors.LeaseUnknown, refused.Error);
        }

        var (distribution, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(before.Servers.Select(s => s.Allocated), distribution.Servers.Select(s => s.Allocated));
        Assert.Equal(before.FreePool, distribution.FreePool);
        Assert.All(views, v => Assert.Equal([$"x-{v.ServerId}"], v.Leases.Select(l => l.LeaseId)));
    }

    private async Task<ServerRecord> StoredRecordAsync(string serverId, string code)
    {
        var storage = _pool.Service<IServiceProvider>(serverId).GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        var options = _pool.Service<IOptions<LicensingOptions>>(serverId).Value;
        var (record, _, _) = await ServerJournal.LoadAsync(storage, _pool.Server(serverId, code).GetGrainId(), options);
        return record;
    }
}
