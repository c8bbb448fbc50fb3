namespace Orleans.Licensing.Tests.Units;

/// <summary>The leader's table arithmetic, per claim; every case keeps Σ allocated + free pool = total.</summary>
public sealed class PoolTableTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static PoolTable Table(int total, int free, params (string Id, int Allocated, bool Down, int Held)[] servers)
    {
        var state = new PoolState { License = new LicenseCode("c", "p", total), Total = total, FreePool = free };
        var table = new PoolTable(state, 0.8);
        foreach (var (id, allocated, down, held) in servers)
        {
            var share = table.Share(id);
            share.Allocated = allocated;
            share.Down = down;
            share.Fenced = down;
            for (var i = 0; i < held; i++) share.Held[$"{id}-{i}"] = new HeldLease(1, Now.AddSeconds(30));
        }

        return table;
    }

    private static void Conserved(PoolTable table) =>
        Assert.Equal(table.State.Total, table.State.FreePool + table.State.Servers.Values.Sum(s => s.Allocated));

    [Fact]
    [Trait("Claim", "5")]
    [Trait("Claim", "19")]
    public void The_free_pool_gives_first_up_to_what_it_has()
    {
        var table = Table(10, 3, ("s1", 7, false, 0));
        var sources = new List<BorrowSource>();
        Assert.Equal(3, table.TakeFromFreePool(5, sources));
        Assert.Equal([new BorrowSource(SourceKind.FreePool, null, 3)], sources);
        Assert.Equal(0, table.State.FreePool);
        Assert.Equal(0, table.TakeFromFreePool(5, sources));
    }

    [Fact]
    [Trait("Claim", "5")]
    [Trait("Claim", "14")]
    public void A_down_server_gives_only_what_backs_no_held_lease_and_the_taker_never_takes_from_itself()
    {
        var table = Table(12, 0, ("a", 4, true, 3), ("b", 5, true, 1), ("taker", 3, false, 0));
        var sources = new List<BorrowSource>();
        var taken = table.TakeFromDownServers(10, "taker", Now, sources);
        Assert.Equal(5, taken);   // a: 4 - 3 held, b: 5 - 1 held
        Assert.Equal([new BorrowSource(SourceKind.DownServer, "a", 1), new BorrowSource(SourceKind.DownServer, "b", 4)], sources);
        table.Share("taker").Allocated += taken;
        Conserved(table);
        Assert.Equal(0, table.TakeFromDownServers(10, "a", Now, sources));
    }

    [Fact]
    [Trait("Claim", "14")]
    public void Held_seats_become_a_source_once_their_clients_can_no_longer_renew()
    {
        var table = Table(4, 0, ("a", 4, true, 4));
        Assert.Equal(0, table.TakeFromDownServers(4, "b", Now, []));
        Assert.Equal(4, table.TakeFromDownServers(4, "b", Now.AddSeconds(31), []));
    }

    [Fact]
    [Trait("Claim", "5")]
    [Trait("Claim", "14")]
    [Trait("Claim", "15")]
    public void The_source_orders_are_data()
    {
        Assert.Equal([SourceKind.FreePool, SourceKind.DownServer, SourceKind.LeaderServer, SourceKind.LiveServer], SourceOrder.For(BorrowReason.ClientRequest));
        Assert.Equal([SourceKind.LeaderServer, SourceKind.FreePool, SourceKind.DownServer, SourceKind.LiveServer], SourceOrder.For(BorrowReason.FailoverUpdate));
        Assert.Equal(GiveUpMode.Idle, SourceOrder.LiveServerMode(BorrowReason.ClientRequest));
        Assert.Equal(GiveUpMode.Unused, SourceOrder.LiveServerMode(BorrowReason.FailoverUpdate));
    }

    [Fact]
    [Trait("Claim", "15")]
    public void Live_givers_exclude_the_taker_the_leader_server_and_down_servers_most_unused_first()
    {
        var table = Table(20, 0, ("leader", 5, false, 0), ("taker", 3, false, 0), ("busy", 4, false, 0), ("idle", 6, false, 0), ("down", 2, true, 0));
        table.Share("busy").InUse = 4;
        table.Share("idle").InUse = 1;
        Assert.Equal(["idle", "busy"], table.LiveGivers("taker", "leader"));
    }

    [Fact]
    [Trait("Claim", "7")]
    public void New_criteria_set_base_shares_and_thresholds_and_name_the_excess_then_the_free_pool_fills()
    {
        var table = Table(12, 2, ("a", 8, false, 0), ("b", 2, false, 0));
        var excess = table.ApplyCriteria(new DistributionCriteria(Shares: new Dictionary<string, int> { ["a"] = 4, ["b"] = 6 }, Thresholds: new Dictionary<string, double> { ["b"] = 0.5 }));
        Assert.Equal([("a", 4)], excess);
        Assert.Equal((4, 6), (table.Share("a").BaseShare, table.Share("b").BaseShare));
        Assert.Equal((0.8, 0.5), (table.Share("a").Threshold, table.Share("b").Threshold));

        // a gave its excess back (as a live server's give-up would); then the free pool fills b.
        table.Share("a").Allocated -= 4;
        table.ToFreePool(4);
        Assert.True(table.FillToBaseShares(upOnly: false));
        Assert.Equal((4, 6, 2), (table.Share("a").Allocated, table.Share("b").Allocated, table.State.FreePool));
        Conserved(table);
    }

    [Fact]
    [Trait("Claim", "32")]
    public void Surplus_is_above_the_base_share_for_a_live_server_and_the_unused_seats_of_a_down_one()
    {
        var table = Table(20, 0, ("live", 9, false, 0), ("down", 6, true, 2));
        table.Share("live").BaseShare = 5;
        Assert.Equal(4, PoolTable.Surplus(table.Share("live"), Now));
        Assert.Equal(4, PoolTable.Surplus(table.Share("down"), Now));
        Assert.Equal(4, table.DownToFreePool(table.Share("down"), 10, Now));
        Assert.Equal(4, table.State.FreePool);
    }

    [Fact]
    [Trait("Claim", "32")]
    public void Re_distribution_fills_only_functioning_servers()
    {
        var table = Table(10, 6, ("up", 0, false, 0), ("down", 4, true, 0));
        table.Share("up").BaseShare = 5;
        table.Share("down").BaseShare = 5;
        Assert.True(table.FillToBaseShares(upOnly: true));
        Assert.Equal((5, 4, 1), (table.Share("up").Allocated, table.Share("down").Allocated, table.State.FreePool));
    }

    [Fact]
    [Trait("Claim", "13")]
    public void A_refused_adoption_borrows_nothing_for_itself()
    {
        var request = new BorrowRequest(Guid.NewGuid(), "s", 5, BorrowReason.FailoverUpdate, 0,
            [new AdoptedLease("x", "a", Now, null, "c", 2), new AdoptedLease("y", "a", Now, null, "c", 1)]);
        Assert.Equal(5, PoolTable.NeedAfterRefusals(request, new Dictionary<string, string>()));
        Assert.Equal(3, PoolTable.NeedAfterRefusals(request, new Dictionary<string, string> { ["x"] = LicensingErrors.LeaseUnknown }));
        Assert.Equal(0, PoolTable.NeedAfterRefusals(request, new Dictionary<string, string> { ["x"] = "e", ["y"] = "e" }));
    }

    [Fact]
    [Trait("Claim", "13")]
    public void Adoptions_and_held_leases_are_forgotten_when_their_clients_can_no_longer_renew()
    {
        var table = Table(4, 0, ("a", 4, true, 2));
        table.RecordAdoption(new AdoptedLease("x", "a", Now, null, "c", 1), "a", "b", Now, TimeSpan.FromSeconds(60));
        table.Prune(Now.AddSeconds(29));
        Assert.Single(table.ActiveAdoptions());
        Assert.Equal(2, table.Share("a").Held.Count);
        table.Prune(Now.AddSeconds(31));
        Assert.Single(table.ActiveAdoptions());
        Assert.Empty(table.Share("a").Held);
        table.Prune(Now.AddSeconds(61));
        Assert.Empty(table.ActiveAdoptions());
        Assert.Empty(table.Share("a").Held);
    }

    [Fact]
    [Trait("Claim", "13")]
    public void A_give_up_id_is_the_same_for_a_retried_borrow_and_differs_by_server_and_mode()
    {
        var borrow = Guid.NewGuid();
        Assert.Equal(OperationIds.GiveUp(borrow, "a", GiveUpMode.Leases), OperationIds.GiveUp(borrow, "a", GiveUpMode.Leases));
        Assert.NotEqual(OperationIds.GiveUp(borrow, "a", GiveUpMode.Leases), OperationIds.GiveUp(borrow, "b", GiveUpMode.Leases));
        Assert.NotEqual(OperationIds.GiveUp(borrow, "a", GiveUpMode.Leases), OperationIds.GiveUp(borrow, "a", GiveUpMode.Unused));
        Assert.NotEqual(OperationIds.GiveUp(borrow, "a", GiveUpMode.Leases), OperationIds.GiveUp(Guid.NewGuid(), "a", GiveUpMode.Leases));
    }
}
