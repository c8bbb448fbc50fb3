namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// A client whose fail-over update got no answer in time sends it again to the same server while the first copy still
/// waits for the leader. The copies are one adoption: both are answered with the lease, none with "unknown".
/// </summary>
[Collection(FaultInjectionCollection.Name)]
public sealed class DuplicateUpdateTests(FaultInjectionFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Category", "Fault")]
    public async Task Two_copies_of_one_fail_over_update_queued_behind_a_slow_adoption_both_get_the_lease()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, origin, adopter) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        Assert.True((await _pool.Server(origin, code).Checkout(new CheckoutRequest("first", "client-first", 1))).Granted);
        Assert.True((await _pool.Server(origin, code).Checkout(new CheckoutRequest("twice", "client-twice", 1))).Granted);

        // The origin stops answering the leader: the first adoption's report waits for the give-up timeout.
        GiveUpPause.Pause(origin);
        try
        {
            var server = _pool.Server(adopter, code);
            var first = server.Update(new LeaseUpdate("first", "client-first", 1, origin));
            await GiveUpPause.Arrived(origin).WaitAsync(TimeSpan.FromSeconds(30));

            // Both copies arrive while the first report is at the leader: they queue for the same next report.
            var copies = new[]
            {
                server.Update(new LeaseUpdate("twice", "client-twice", 1, origin)),
                server.Update(new LeaseUpdate("twice", "client-twice", 1, origin)),
            };
            Assert.Equal(adopter, (await first).ServerId);
            var answers = await Task.WhenAll(copies.Select(ErrorOf));
            Assert.Equal([adopter, adopter], answers);
        }
        finally
        {
            GiveUpPause.Resume(origin);
        }

        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(["first", "twice"], views.Single(v => v.ServerId == adopter).Leases.Select(l => l.LeaseId));
    }

    [Fact]
    [Trait("Claim", "13")]
    [Trait("Category", "Fault")]
    public async Task A_fail_over_update_naming_another_client_while_the_lease_is_being_adopted_is_refused()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        var (leader, origin, adopter) = (servers[0], servers[1], servers[2]);
        await _pool.AddCodeAsync(code, 6, leader, new DistributionCriteria(Even: true, DefaultThreshold: 1.0));
        Assert.True((await _pool.Server(origin, code).Checkout(new CheckoutRequest("first", "client-first", 1))).Granted);
        Assert.True((await _pool.Server(origin, code).Checkout(new CheckoutRequest("owned", "client-owner", 1))).Granted);

        GiveUpPause.Pause(origin);
        Task<Lease> owner;
        string intruder;
        try
        {
            var server = _pool.Server(adopter, code);
            var first = server.Update(new LeaseUpdate("first", "client-first", 1, origin));
            await GiveUpPause.Arrived(origin).WaitAsync(TimeSpan.FromSeconds(30));

            // The owner's update is in flight; a caller naming another client (or count) for the same lease id must not
            // join it, replace it, or be checked by the leader in its place. Whichever arrives first is adopted first:
            // the intruder is refused either way (conflict after the owner's adoption, unknown at the leader before).
            owner = server.Update(new LeaseUpdate("owned", "client-owner", 1, origin));
            intruder = await ErrorOf(server.Update(new LeaseUpdate("owned", "client-intruder", 1, origin)));
            Assert.Equal(adopter, (await first).ServerId);
        }
        finally
        {
            GiveUpPause.Resume(origin);
        }

        Assert.Contains(intruder, new[] { LicensingErrors.Conflict, LicensingErrors.LeaseUnknown });
        Assert.Equal(adopter, (await owner).ServerId);
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        var held = views.Single(v => v.ServerId == adopter).Leases.Single(l => l.LeaseId == "owned");
        Assert.Equal("client-owner", held.ClientId);
    }

    private static async Task<string> ErrorOf(Task<Lease> call)
    {
        try
        {
            return (await call).ServerId;
        }
        catch (LicensingException e)
        {
            return e.Error;
        }
    }
}
