namespace Orleans.Licensing.Tests.Units;

/// <summary>The offline borrow policy and the pool-wide count at the leader: fast unit tests of the pure arithmetic.</summary>
public sealed class OfflineBorrowBookTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private static OfflineBorrowPermitRequest Ask(string leaseId, int count, TimeSpan duration, string server = "s1", string client = "c") =>
        new(leaseId, server, client, count, duration);

    private static OfflineBorrowState Enabled(int maxCount, TimeSpan maxDuration)
    {
        var state = new OfflineBorrowState();
        OfflineBorrowBook.SetPolicy(state, maxCount, maxDuration, seats: 10);
        return state;
    }

    [Fact]
    public void Borrowing_is_off_until_an_admin_enables_it()
    {
        var state = new OfflineBorrowState();
        Assert.Equal((0, 0L), (state.Policy.MaxCount, state.Policy.Version));
        var (permit, _, denial) = OfflineBorrowBook.Decide(state, Ask("l1", 1, Day), Now);
        Assert.Null(permit);
        Assert.Contains("At most 0 seats", denial);
    }

    [Theory]
    [InlineData(-1, 7.0, "max count")]
    [InlineData(11, 7.0, "max count")]
    [InlineData(2, 0.0, "max duration")]
    [InlineData(2, -1.0, "max duration")]
    [InlineData(2, 90.001, "max duration")]
    public void An_invalid_policy_is_refused_and_changes_nothing(int maxCount, double days, string what)
    {
        var state = Enabled(3, Day);
        var e = Assert.Throws<LicensingException>(() => OfflineBorrowBook.SetPolicy(state, maxCount, TimeSpan.FromDays(days), seats: 10));
        Assert.Equal(LicensingErrors.InvalidRequest, e.Error);
        Assert.Contains(what, e.Message);
        Assert.Equal(new OfflineBorrowPolicy(3, Day, 1), state.Policy);
    }

    [Fact]
    public void Each_change_of_the_policy_has_a_higher_version_and_the_ceiling_itself_is_allowed()
    {
        var state = Enabled(2, Day);
        var next = OfflineBorrowBook.SetPolicy(state, 10, OfflineBorrowPolicy.Ceiling, seats: 10);
        Assert.Equal(new OfflineBorrowPolicy(10, TimeSpan.FromDays(90), 2), next);
        Assert.Equal(3, OfflineBorrowBook.SetPolicy(state, 0, Day, seats: 10).Version);
    }

    [Fact]
    public void The_count_is_pool_wide_across_servers_and_a_borrow_that_would_pass_it_is_denied()
    {
        var state = Enabled(3, 7 * Day);
        Store(state, Ask("a", 2, Day, server: "s1"));
        var (permit, _, denial) = OfflineBorrowBook.Decide(state, Ask("b", 2, Day, server: "s2"), Now);
        Assert.Null(permit);
        Assert.Contains("2 are borrowed now, 2 more", denial);

        Store(state, Ask("c", 1, Day, server: "s2"));
        Assert.Equal(3, OfflineBorrowBook.Borrowed(state, Now));
    }

    [Fact]
    public void A_borrow_longer_than_the_max_duration_is_denied_and_a_retry_gets_the_same_permit()
    {
        var state = Enabled(3, 7 * Day);
        Assert.Contains("at most P7D", OfflineBorrowBook.Decide(state, Ask("long", 1, 8 * Day), Now).Denial);

        var first = Store(state, Ask("l", 1, 3 * Day));
        var (again, isNew, _) = OfflineBorrowBook.Decide(state, Ask("l", 1, 3 * Day), Now + TimeSpan.FromMinutes(5));
        Assert.False(isNew);
        Assert.Equal(first, again);
        Assert.Equal(Now + 3 * Day, again!.EndsAt);

        var e = Assert.Throws<LicensingException>(() => OfflineBorrowBook.Decide(state, Ask("l", 1, 3 * Day, client: "other"), Now));
        Assert.Equal(LicensingErrors.Conflict, e.Error);
        Assert.Equal(LicensingErrors.InvalidRequest, Assert.Throws<LicensingException>(() => OfflineBorrowBook.Decide(state, Ask("z", 1, TimeSpan.Zero), Now)).Error);
    }

    [Fact]
    public void Released_returned_and_ended_borrows_count_no_more()
    {
        var state = Enabled(3, 7 * Day);
        Store(state, Ask("released", 1, Day));
        Store(state, Ask("returned", 1, 2 * Day));
        Store(state, Ask("ends", 1, TimeSpan.FromHours(1)));

        Assert.False(OfflineBorrowBook.Release(state, "released", "s2"));   // only its own server releases it
        Assert.True(OfflineBorrowBook.Release(state, "released", "s1"));
        Assert.Null(OfflineBorrowBook.Returnable(state, "returned", "someone-else", "s1", Now));
        Assert.NotNull(OfflineBorrowBook.Returnable(state, "returned", "c", "s1", Now));
        OfflineBorrowBook.MarkReturned(state, "returned");
        Assert.Null(OfflineBorrowBook.Returnable(state, "returned", "c", "s1", Now));
        Assert.Equal(["returned"], OfflineBorrowBook.ReturnedLeases(state));
        Assert.Equal(1, OfflineBorrowBook.Borrowed(state, Now));
        Assert.Equal(0, OfflineBorrowBook.Borrowed(state, Now + TimeSpan.FromHours(1)));

        // At their ends the permits go, the returned one too (its server had until then to hear it).
        Assert.Equal(1, OfflineBorrowBook.Prune(state, Now + TimeSpan.FromHours(1)));
        Assert.Equal(1, OfflineBorrowBook.Prune(state, Now + 2 * Day));
        Assert.Empty(state.Permits);
    }

    [Fact]
    public void A_fenced_servers_permits_without_a_journaled_lease_go_and_the_rest_are_held_until_their_end()
    {
        var state = Enabled(5, 7 * Day);
        Store(state, Ask("granted", 2, 3 * Day));
        Store(state, Ask("never-granted", 1, 3 * Day));     // the server died between permit and grant
        Store(state, Ask("returned", 1, Day));
        OfflineBorrowBook.MarkReturned(state, "returned");
        Store(state, Ask("elsewhere", 1, Day, server: "s2"));

        var held = OfflineBorrowBook.Fenced(state, "s1", ["granted", "returned", "ordinary"], Now);

        Assert.Equal(Now + 3 * Day, held["granted"]);
        Assert.Null(held["returned"]);
        Assert.False(held.ContainsKey("never-granted"));
        Assert.Equal(["elsewhere", "granted", "returned"], state.Permits.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(3, OfflineBorrowBook.Borrowed(state, Now));
    }

    [Fact]
    public void The_leader_holds_a_fenced_servers_borrowed_lease_until_the_borrows_end_by_its_own_record()
    {
        var ttl = TimeSpan.FromSeconds(60);
        var leases = new[]
        {
            // The dead server's record says the lease ends in a minute: the leader's permit says three days.
            new LeaseRecord("borrowed", "a", 2, Now + TimeSpan.FromMinutes(1)) { Borrowed = true },
            new LeaseRecord("returned", "b", 1, Now + Day) { Borrowed = true },
            new LeaseRecord("ordinary", "c", 1, Now + ttl),
        };
        var borrows = new Dictionary<string, DateTimeOffset?> { ["borrowed"] = Now + 3 * Day, ["returned"] = null };

        var held = HeldLeases.Of("s1", leases, new Dictionary<string, Adoption>(), 10, Now, ttl, borrows);

        Assert.Equal(["borrowed", "ordinary"], held.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Now + 3 * Day, held["borrowed"].ExpiresAt);
        Assert.Equal(Now + ttl, held["ordinary"].ExpiresAt);

        // With room for only two seats, the borrow (held longest) is what the leader keeps.
        Assert.Equal(["borrowed"], HeldLeases.Of("s1", leases, new Dictionary<string, Adoption>(), 2, Now, ttl, borrows).Keys);
    }

    private static OfflineBorrowPermit Store(OfflineBorrowState state, OfflineBorrowPermitRequest request)
    {
        var (permit, isNew, denial) = OfflineBorrowBook.Decide(state, request, Now);
        Assert.True(isNew, denial);
        state.Permits[request.LeaseId] = permit!;
        return permit!;
    }
}
