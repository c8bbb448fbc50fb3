namespace Orleans.Licensing.Tests.Units;

/// <summary>The server's record of leases that moved to an adopter: kept until they would expire, no longer.</summary>
public sealed class MovedAwayRecordTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    [Trait("Claim", "13")]
    public void Moved_leases_are_kept_until_they_would_expire_and_pruned_when_more_move()
    {
        var moved = MovedAway.Add(new Dictionary<string, DateTimeOffset>(), ["a", "b"], Now.AddSeconds(60), Now);
        Assert.True(MovedAway.Contains(moved, "a", Now.AddSeconds(59)));
        Assert.False(MovedAway.Contains(moved, "a", Now.AddSeconds(60)));
        Assert.False(MovedAway.Contains(moved, "c", Now));
        Assert.True(MovedAway.HasExpired(moved, Now.AddSeconds(61)));

        var later = MovedAway.Add(moved, ["c"], Now.AddSeconds(120), Now.AddSeconds(61));
        Assert.Equal(["c"], later.Keys);
    }
}
