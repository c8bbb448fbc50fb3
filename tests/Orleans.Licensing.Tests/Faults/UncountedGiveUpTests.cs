namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// A holder gave up a moving lease's seat, but the leader's write failed: the leader reloads the version it asked at
/// and still counts that seat at the holder. Another turn then asks the holder again at that version, and the borrow's
/// retry replays the first give-up. RandomizedTests saw the holder's allocation go to -1 this way (seed 1055).
/// The first give-up is sent here as the failed turn sent it (its write failing is all the leader lost); the second is
/// a real release; the retry's replay is sent as the reloaded leader would send it, whose row then loses what it answers.
/// </summary>
[Collection(FaultInjectionCollection.Name)]
public sealed class UncountedGiveUpTests(FaultInjectionFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "33")]
    [Trait("Category", "Fault")]
    public async Task A_give_up_the_leader_never_counted_is_not_given_again_nor_counted_twice()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, holder, adopter) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        var lease = (await _pool.Server(holder, code).Checkout(new CheckoutRequest("moving", "client-moving", 1))).Lease!;
        var (before, _) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(2, before[holder]!.Allocated);

        // The adoption's give-up of the failed turn: the holder drops the lease and shrinks to 1, durably.
        var claim = new AdoptedLease("moving", holder, lease.ExpiresAt, adopter, "client-moving", 1);
        GiveUpRequest Transfer(long version, int share) => new(OperationIds.GiveUp(Guid.Parse("6a0e7d3c-0000-4000-8000-000000001055"), holder, GiveUpMode.Leases),
            1, GiveUpMode.Leases, version, share, version + 1, [claim]);
        Assert.Equal(1, (await _pool.Server(holder, code).GiveUp(Transfer(before.Version, 2))).Given);

        // The leader (still at that version, counting 2 there) releases what the holder does not use.
        var released = await _pool.Pool(code).Release(holder);
        var (after, views) = await Invariants.CheckAsync(_pool, code);
        Assert.True(released <= 1, $"the holder gave {released} more from the 1 it had left");

        // The borrow's retry replays the first give-up; the leader takes what it answers off the holder's row.
        var replay = await _pool.Server(holder, code).GiveUp(Transfer(after.Version, after[holder]!.Allocated));
        Assert.Empty(replay.Unknown ?? []);   // the lease stays its client's: it moved
        var counted = after[holder]!.Allocated - replay.Given;
        var record = (await _pool.Server(holder, code).GetView()).Allocated;
        Assert.True(counted >= 0 && record <= counted, $"after the replay the leader counts {counted} at {holder}, which manages {record} (views: {string.Join("; ", views.Select(v => $"{v.ServerId} {v.InUse}/{v.Allocated}"))})");
    }
}
