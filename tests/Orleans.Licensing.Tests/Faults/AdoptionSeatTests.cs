namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// The seat the leader moves to an adopter for a recorded adoption is that lease's, even when more fail-over updates
/// arrive (and bind seats) while its report is at the leader (found by the process fault suite: 21 acknowledged seats
/// of 20 right after a leader's server was killed).
/// </summary>
[Collection(FaultInjectionCollection.Name)]
public sealed class AdoptionSeatTests(FaultInjectionFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Claim", "14")]
    [Trait("Category", "Fault")]
    public async Task An_adoption_keeps_the_seat_moved_for_it_when_a_later_update_binds_seats_meanwhile()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, holder, adopter) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        foreach (var server in servers)
        {
            for (var i = 1; i <= 2; i++) Assert.True((await _pool.Server(server, code).Checkout(new CheckoutRequest($"{server}-{i}", $"c-{server}-{i}", 1))).Granted);
        }

        // The pool is full. The holder stops answering the leader; its first client fails over, and while that report
        // waits for the give-up timeout, the second client fails over to the same adopter.
        GiveUpPause.Pause(holder);
        try
        {
            var server = _pool.Server(adopter, code);
            var first = server.Update(new LeaseUpdate($"{holder}-1", $"c-{holder}-1", 1, holder));
            await GiveUpPause.Arrived(holder).WaitAsync(TimeSpan.FromSeconds(30));
            var second = server.Update(new LeaseUpdate($"{holder}-2", $"c-{holder}-2", 1, holder));
            var firstAnswer = await Record.ExceptionAsync(() => first);
            Assert.True(firstAnswer is null or LicensingException { Error: LicensingErrors.Unavailable }, $"the first update was answered {firstAnswer?.Message}");
            Assert.Equal(adopter, (await second).ServerId);

            // Every seat backs a live lease (the first client's too, whatever it heard): a new checkout finds none.
            Assert.False((await server.Checkout(new CheckoutRequest("intruder", "c-intruder", 1))).Granted);
            Assert.Equal(adopter, (await server.Update(new LeaseUpdate($"{holder}-1", $"c-{holder}-1", 1, holder))).ServerId);
        }
        finally
        {
            GiveUpPause.Resume(holder);
        }

        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(new[] { $"{adopter}-1", $"{adopter}-2", $"{holder}-1", $"{holder}-2" }.Order(StringComparer.Ordinal), views.Single(v => v.ServerId == adopter).Leases.Select(l => l.LeaseId));
        Assert.Equal(6, views.Sum(v => v.InUse));
    }
}
