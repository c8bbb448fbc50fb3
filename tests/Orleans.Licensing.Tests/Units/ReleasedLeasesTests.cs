namespace Orleans.Licensing.Tests.Units;

/// <summary>The pure parts of who holds what: released ids remembered for a TTL, the leader's held leases listed, owners bounded.</summary>
public sealed class ReleasedLeasesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(60);

    [Fact]
    public void A_released_id_is_remembered_for_one_ttl_and_then_forgotten()
    {
        var released = new ReleasedLeases(Ttl);
        released.Add("a", Now);
        Assert.True(released.Contains("a", Now + Ttl - TimeSpan.FromMilliseconds(1)));
        Assert.False(released.Contains("a", Now + Ttl));
        Assert.False(released.Contains("b", Now));
        var refused = Assert.Throws<LicensingException>(() => released.ThrowIfReleased("a", "s1", Now));
        Assert.Equal(LicensingErrors.LeaseReleased, refused.Error);
        released.ThrowIfReleased("b", "s1", Now);

        released.Add("b", Now + TimeSpan.FromSeconds(30));
        released.Sweep(Now + Ttl);
        Assert.Equal(1, released.Count);
        Assert.True(released.Contains("b", Now + Ttl));
    }

    [Fact]
    public void The_leader_lists_only_live_holds_of_down_servers_by_server_then_lease()
    {
        var servers = new Dictionary<string, ShareState>
        {
            ["up"] = new() { Allocated = 2, Held = new() { ["stale"] = new HeldLease(1, Now + Ttl, "x") } },
            ["s2"] = new() { Down = true, Allocated = 5, Held = new() { ["b"] = new HeldLease(2, Now + Ttl, "cb"), ["a"] = new HeldLease(1, Now + Ttl, "ca"), ["over"] = new HeldLease(1, Now, "co") } },
            ["s1"] = new() { Down = true, Allocated = 1, Held = new() { ["z"] = new HeldLease(1, Now + Ttl) } },
        };

        var views = HeldLeases.Views(servers, Now);

        Assert.Equal(["s1/z", "s2/a", "s2/b"], views.Select(v => $"{v.ServerId}/{v.LeaseId}"));
        Assert.Equal(("cb", 2, Now + Ttl), (views[2].ClientId, views[2].Count, views[2].HeldUntil));
    }

    [Theory]
    [InlineData("ada", "ws-1", "Ada Lovelace", null)]
    [InlineData(null, null, null, null)]
    [InlineData("ada\u0007", null, null, "user")]
    [InlineData(null, "ws\r\n1", null, "host")]
    [InlineData(null, null, "tab\there", "displayName")]
    public void An_owner_part_is_refused_for_control_characters(string? user, string? host, string? display, string? invalid) =>
        Assert.Equal(invalid, new LeaseOwner(user, host, display).Invalid());

    [Fact]
    public void An_owner_part_is_refused_beyond_its_limit_and_an_empty_owner_is_none()
    {
        Assert.Null(new LeaseOwner(new string('u', Limits.MaxOwnerPartLength)).Invalid());
        Assert.Equal("user", new LeaseOwner(new string('u', Limits.MaxOwnerPartLength + 1)).Invalid());
        Assert.Null(LeaseOwner.Of(null, "", null));
        Assert.Equal(new LeaseOwner(Host: "h"), LeaseOwner.Of(null, "h", null));
    }
}
