using Orleans.Licensing.Server.Hosting;

namespace Orleans.Licensing.Server.UnitTests;

public sealed class SiloPeerNameTests
{
    [Theory]
    [InlineData("pool.example", "pool.example", true)]
    [InlineData("pool.example", "POOL.example", true)]
    [InlineData("pool.example", "other.example", false)]
    [InlineData("*.pool.example", "a.pool.example", true)]
    [InlineData("*.pool.example", "pool.example", false)]
    [InlineData("*.pool.example", "a.b.pool.example", false)]
    [InlineData("*.pool.example", "a.evilpool.example", false)]
    [InlineData("*.pool.example", ".pool.example", false)]
    [InlineData("", "pool.example", false)]
    public void A_name_matches_an_exact_name_or_one_label_of_a_wildcard(string pattern, string name, bool matches) =>
        Assert.Equal(matches, SiloPeerName.Matches(pattern, name));
}
