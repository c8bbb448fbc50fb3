namespace Orleans.Licensing.Tests.Units;

/// <summary>What the leader holds for a fenced server's clients: fast unit tests of the pure arithmetic.</summary>
public sealed class HeldLeasesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(60);

    [Fact]
    public void Every_lease_is_held_for_one_ttl_on_the_leaders_clock_whatever_its_own_expiry_says()
    {
        var leases = new[]
        {
            new LeaseRecord("fresh", "a", 1, Now + TimeSpan.FromSeconds(50)),
            new LeaseRecord("skewed", "b", 2, Now - TimeSpan.FromSeconds(20)),   // its server's clock runs behind ours
            new LeaseRecord("gone", "c", 1, Now - TimeSpan.FromSeconds(61)),
        };

        var held = HeldLeases.Of("s1", leases, new Dictionary<string, Adoption>(), 10, Now, Ttl);

        Assert.Equal(["fresh", "skewed"], held.Keys.Order(StringComparer.Ordinal));
        Assert.All(held.Values, h => Assert.Equal(Now + Ttl, h.ExpiresAt));
        Assert.Equal(("b", 2), (held["skewed"].ClientId, held["skewed"].Count));
    }

    [Fact]
    public void Leases_adopted_by_another_server_are_not_held_and_nothing_beyond_the_allocation_is()
    {
        var leases = new[]
        {
            new LeaseRecord("adopted", "a", 1, Now + Ttl),
            new LeaseRecord("mine-again", "b", 1, Now + Ttl),
            new LeaseRecord("late", "c", 2, Now + TimeSpan.FromSeconds(30)),
            new LeaseRecord("last", "d", 1, Now + TimeSpan.FromSeconds(10)),
        };
        var adoptions = new Dictionary<string, Adoption>
        {
            ["adopted"] = new("s1", "s2", Now + Ttl),
            ["mine-again"] = new("s2", "s1", Now + Ttl),
        };

        // 3 allocations: the latest-expiring leases first (1 + 2), the soonest-expiring one is not held.
        var held = HeldLeases.Of("s1", leases, adoptions, 3, Now, Ttl);

        Assert.Equal(["late", "mine-again"], held.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(3, held.Values.Sum(h => h.Count));
    }

    [Fact]
    public void A_no_source_verdict_holds_only_until_the_next_distribution_version_and_not_past_its_time()
    {
        var verdict = new NoSourceVerdict(7, DateTimeOffset.UtcNow);
        Assert.True(verdict.IsCurrent(7, TimeSpan.FromMinutes(1)));
        Assert.False(verdict.IsCurrent(8, TimeSpan.FromMinutes(1)));
        Assert.False(verdict.IsCurrent(7, TimeSpan.Zero));
    }
}
