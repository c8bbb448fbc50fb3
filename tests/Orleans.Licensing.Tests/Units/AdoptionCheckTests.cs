namespace Orleans.Licensing.Tests.Units;

/// <summary>When the leader records a fail-over adoption, and what it answers otherwise.</summary>
public sealed class AdoptionCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static AdoptedLease Claim(string id, string origin = "a", string client = "c", int count = 1) => new(id, origin, Now.AddMinutes(1), null, client, count);

    [Fact]
    [Trait("Claim", "13")]
    public void A_batch_is_checked_per_holder_and_a_lease_reported_twice_once()
    {
        var recorded = new Dictionary<string, Adoption>
        {
            ["moved-on"] = new("a", "b", Now.AddMinutes(1), "c", 1),    // adopted by b, now claimed at d: b holds it
            ["mine"] = new("a", "d", Now.AddMinutes(1), "c", 1),        // adopted here already: a retry
        };
        var groups = AdoptionCheck.ByHolder([Claim("x"), Claim("x"), Claim("moved-on"), Claim("mine"), Claim("y", origin: "e")], recorded, "d");
        Assert.Equal(["a", "b", "e"], groups.Select(g => g.HolderId));
        Assert.Equal(["x"], groups[0].Leases.Select(l => l.LeaseId));
        Assert.Equal(["moved-on"], groups[1].Leases.Select(l => l.LeaseId));
        Assert.Contains("moved-on", groups[1].Unfinished);
    }

    [Fact]
    [Trait("Claim", "13")]
    public void An_earlier_adoption_with_another_client_is_not_unfinished()
    {
        var recorded = new Dictionary<string, Adoption> { ["x"] = new("a", "b", Now.AddMinutes(1), "someone-else", 1) };
        var group = Assert.Single(AdoptionCheck.ByHolder([Claim("x")], recorded, "d"));
        Assert.Empty(group.Unfinished);
    }

    [Fact]
    [Trait("Claim", "13")]
    public void A_live_holder_that_does_not_know_the_lease_refuses_it_unless_an_earlier_adoption_never_finished()
    {
        var none = new HashSet<string>();
        Assert.Equal(AdoptionCheck.Verdict.Adopt, AdoptionCheck.AtLiveHolder("x", none, none));
        Assert.Equal(AdoptionCheck.Verdict.Unknown, AdoptionCheck.AtLiveHolder("x", new HashSet<string> { "x" }, none));
        Assert.Equal(AdoptionCheck.Verdict.Adopt, AdoptionCheck.AtLiveHolder("x", new HashSet<string> { "x" }, new HashSet<string> { "x" }));
    }

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Claim", "27")]
    public void A_silent_holder_is_checked_against_what_it_held_when_fenced()
    {
        var holder = new ShareState { Down = true, Fenced = true, Allocated = 3 };
        holder.Held["x"] = new HeldLease(1, Now.AddSeconds(30), "c");
        holder.Held["old"] = new HeldLease(1, Now.AddSeconds(-1), "c");
        Assert.Equal(AdoptionCheck.Verdict.AdoptHeld, AdoptionCheck.AtSilentHolder(holder, Claim("x"), unfinished: false, Now));
        Assert.Equal(AdoptionCheck.Verdict.Unknown, AdoptionCheck.AtSilentHolder(holder, Claim("x", client: "thief"), unfinished: false, Now));
        Assert.Equal(AdoptionCheck.Verdict.Unknown, AdoptionCheck.AtSilentHolder(holder, Claim("x", count: 2), unfinished: false, Now));
        Assert.Equal(AdoptionCheck.Verdict.Unknown, AdoptionCheck.AtSilentHolder(holder, Claim("old"), unfinished: false, Now));
        Assert.Equal(AdoptionCheck.Verdict.Adopt, AdoptionCheck.AtSilentHolder(holder, Claim("gone"), unfinished: true, Now));
    }

    [Fact]
    [Trait("Claim", "13")]
    public void A_silent_holder_that_is_not_fenced_or_could_not_be_read_means_retry()
    {
        Assert.Equal(AdoptionCheck.Verdict.Retry, AdoptionCheck.AtSilentHolder(new ShareState { Down = false }, Claim("x"), unfinished: true, Now));
        Assert.Equal(AdoptionCheck.Verdict.Retry, AdoptionCheck.AtSilentHolder(new ShareState { Down = true, Unread = true }, Claim("x"), unfinished: true, Now));
    }
}
