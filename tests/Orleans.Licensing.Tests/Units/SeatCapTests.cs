namespace Orleans.Licensing.Tests.Units;

/// <summary>A client key's seat cap: which client ids it counts, and whether a checkout fits beside what they hold.</summary>
public sealed class SeatCapTests
{
    private static readonly SeatCap Cap = new("site-a", ["site-a-*", "lab-7"], 3);

    [Theory]
    [InlineData("site-a-1", true)]
    [InlineData("site-a-", true)]
    [InlineData("lab-7", true)]
    [InlineData("lab-70", false)]
    [InlineData("site-b-1", false)]
    [InlineData("SITE-A-1", false)]
    public void Covers_the_ids_and_prefixes_of_its_key(string clientId, bool covered) => Assert.Equal(covered, Cap.Covers(clientId));

    [Theory]
    [InlineData(0, 3, true)]
    [InlineData(2, 1, true)]
    [InlineData(3, 1, false)]
    [InlineData(2, 2, false)]
    [InlineData(0, 4, false)]
    [InlineData(int.MaxValue, 1, false)]
    public void A_checkout_fits_while_held_plus_count_stays_within_the_cap(int held, int count, bool fits) => Assert.Equal(fits, Cap.Fits(held, count));
}
