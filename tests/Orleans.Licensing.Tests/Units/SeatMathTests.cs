namespace Orleans.Licensing.Tests.Units;

/// <summary>A server's seat arithmetic: threshold, need, shortfall, room, and what a give-up keeps.</summary>
public sealed class SeatMathTests
{
    [Theory]
    [Trait("Claim", "2")]
    [InlineData(5, 10, 0.5, false)]
    [InlineData(6, 10, 0.5, true)]
    [InlineData(8, 10, 0.8, false)]
    [InlineData(9, 10, 0.8, true)]
    [InlineData(1, 0, 0.8, true)]
    [InlineData(0, 0, 0.8, false)]
    public void Usage_above_the_threshold_means_too_few_allocations(int inUse, int allocated, double threshold, bool above) =>
        Assert.Equal(above, SeatMath.AboveThreshold(inUse, allocated, threshold));

    [Theory]
    [Trait("Claim", "2")]
    [InlineData(6, 0.5, 12)]
    [InlineData(8, 0.8, 10)]
    [InlineData(9, 0.8, 12)]
    [InlineData(0, 0.8, 0)]
    [InlineData(3, 1.0, 3)]
    public void Needed_is_the_fewest_allocations_that_keep_usage_within_the_threshold(int inUse, double threshold, int needed) =>
        Assert.Equal(needed, SeatMath.Needed(inUse, threshold));

    [Theory]
    [Trait("Claim", "3")]
    [Trait("Claim", "31")]
    [InlineData(8, 10, 0.8, 0, 0)]    // at the threshold: nothing missing
    [InlineData(8, 10, 0.8, 1, 2)]    // one more in use: 9 / 0.8 → 12 needed
    [InlineData(10, 10, 1.0, 3, 3)]   // full at threshold 1: exactly the wanted seats
    [InlineData(0, 0, 0.8, 1, 2)]     // nothing allocated: the first seat and headroom
    [InlineData(2, 10, 0.8, 1, 0)]    // room enough
    public void Shortfall_covers_the_wanted_seats_and_the_threshold(int bound, int allocated, double threshold, int wanted, int shortfall) =>
        Assert.Equal(shortfall, SeatMath.Shortfall(bound, allocated, threshold, wanted));

    [Fact]
    public void Room_excludes_bound_seats() => Assert.Equal(3, SeatMath.Room(10, 7));

    [Theory]
    [Trait("Claim", "15")]
    [Trait("Claim", "29")]
    [Trait("Claim", "32")]
    [Trait("Claim", "33")]
    [InlineData(GiveUpMode.Unused, 10, 4, 0.8, 6, 99, 6)]    // keeps what is bound
    [InlineData(GiveUpMode.Unused, 10, 4, 0.8, 6, 2, 2)]     // never more than asked
    [InlineData(GiveUpMode.Idle, 10, 4, 0.8, 6, 99, 5)]      // keeps the threshold's need (4 / 0.8 = 5)
    [InlineData(GiveUpMode.Surplus, 10, 4, 0.8, 6, 99, 4)]   // keeps the base share too
    [InlineData(GiveUpMode.Surplus, 10, 9, 0.8, 6, 99, 0)]   // busy: nothing to give
    [InlineData(GiveUpMode.Unused, 3, 5, 0.8, 0, 99, 0)]     // over-bound: never negative
    public void A_give_up_keeps_what_its_mode_says(GiveUpMode mode, int allocated, int bound, double threshold, int baseShare, int count, int given) =>
        Assert.Equal(given, SeatMath.Givable(mode, allocated, bound, threshold, baseShare, count));
}
