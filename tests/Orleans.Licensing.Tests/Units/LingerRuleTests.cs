namespace Orleans.Licensing.Tests.Units;

/// <summary>The linger rule (docs/admin/linger.md): validation, the lingering lease a check-in leaves, held leases.</summary>
public sealed class LingerRuleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 8, 3, 0, 0, TimeSpan.Zero);
    private static readonly LeaseRecord Lease = new("l1", "c1", 2, Now.AddSeconds(20), null, Now.AddMinutes(-10));

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(300, true)]
    [InlineData(86400, true)]
    [InlineData(86401, false)]
    public void A_linger_is_zero_up_to_the_ceiling(int seconds, bool valid) =>
        Assert.Equal(valid, LingerRule.Invalid(TimeSpan.FromSeconds(seconds)) is null);

    [Fact]
    public void Setting_it_keeps_the_borrow_policy_and_bumps_the_version_an_invalid_one_throws()
    {
        var policy = new OfflineBorrowPolicy(3, TimeSpan.FromDays(2), 4);
        Assert.Equal(new OfflineBorrowPolicy(3, TimeSpan.FromDays(2), 5, TimeSpan.FromMinutes(5)), LingerRule.Set(policy, TimeSpan.FromMinutes(5)));
        var bad = Assert.Throws<LicensingException>(() => LingerRule.Set(policy, TimeSpan.FromHours(25)));
        Assert.Equal(LicensingErrors.InvalidRequest, bad.Error);
    }

    [Fact]
    public void A_check_in_lingers_from_the_check_in_time_not_from_the_checkout()
    {
        var lingered = LingerRule.Lingered(Lease, TimeSpan.FromMinutes(5), Now);
        Assert.Equal(Lease with { ExpiresAt = Now.AddMinutes(5), Lingering = true }, lingered);
        Assert.Equal($"lingers until {Now.AddMinutes(5):O}", LingerRule.CheckinDetail(lingered!));
    }

    [Fact]
    public void No_linger_an_offline_borrow_or_a_lease_already_lingering_frees_at_once()
    {
        Assert.Null(LingerRule.Lingered(Lease, TimeSpan.Zero, Now));
        Assert.Null(LingerRule.Lingered(Lease with { Borrowed = true }, TimeSpan.FromMinutes(5), Now));
        Assert.Null(LingerRule.Lingered(Lease with { Lingering = true }, TimeSpan.FromMinutes(5), Now));
    }

    [Fact]
    public void A_fenced_servers_lingering_lease_is_held_until_its_end_not_one_ttl_and_an_ended_one_not_at_all()
    {
        var ttl = TimeSpan.FromSeconds(30);
        var lingering = Lease with { LeaseId = "linger", ExpiresAt = Now.AddMinutes(10), Lingering = true };
        var ended = Lease with { LeaseId = "ended", ExpiresAt = Now.AddSeconds(-5), Lingering = true };
        var held = HeldLeases.Of("s1", [lingering, ended, Lease], new Dictionary<string, Adoption>(), 10, Now, ttl);
        Assert.Equal(Now.AddMinutes(10), held["linger"].ExpiresAt);
        Assert.Equal(Now + ttl, held["l1"].ExpiresAt);
        Assert.False(held.ContainsKey("ended"));
    }
}
