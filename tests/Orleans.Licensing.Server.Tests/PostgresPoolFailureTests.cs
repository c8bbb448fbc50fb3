using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;
using Xunit.Abstractions;
using static Orleans.Licensing.Server.Tests.Infrastructure.PoolChecks;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// Three license server processes on one PostgreSQL (ADO.NET clustering + grain storage). A server process is
/// SIGKILLed while SDK clients hold leases at every server: its clients fail over, membership declares it dead, and
/// the pool never issues more than the license code grants. Leases live 6 s (renewed every 2 s).
/// </summary>
[Collection(PostgresFailureCollection.Name), Trait("Category", "Process"), Trait("Storage", "PostgreSQL")]
public sealed class PostgresPoolFailureTests(PostgresFailureFixture pool, ITestOutputHelper output) : PostgresPoolTest(pool)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    [PostgresProcessFact, Trait("Claim", "13"), Trait("Claim", "14")]
    public async Task A_killed_server_fails_over_its_clients_frees_its_unused_allocations_and_rejoins_without_double_counting()
    {
        var code = PoolFixture.NewCode("PGK");
        const int seats = 9;
        var ledger = new SeatLedger();
        var added = await Admin.AddLicenseAsync(TestSecurity.License(code, seats, "CAD"));
        Assert.All(added.Servers, s => Assert.Equal(3, s.Allocated));
        await using var monitor = new InvariantMonitor(Admin, code);

        // Two SDK leases at every server; each client lists its own server first, then the other two.
        var leases = new List<LicenseLease>();
        foreach (var server in pool.Servers)
        {
            var client = Track(pool.ClientServices(server, $"client-{server.ServerId}")).GetRequiredService<LicensingClient>();
            for (var i = 0; i < 2; i++)
            {
                var lease = await client.AcquireAsync(code);
                ledger.Granted(lease.LeaseId, lease.Count);
                Assert.Equal(server.ServerId, lease.ServerId);
                leases.Add(lease);
            }
        }

        Assert.Equal(6, InUse(await Admin.GetLicenseAsync(code)));
        var victim = pool["pg-c"];
        var victimLeases = leases.Where(l => l.ServerId == victim.ServerId).Select(l => (Lease: l, l.LeaseId, l.Count)).ToList();

        // SIGKILL. Measure: until every client of the victim renewed at another server, and until membership says so.
        var clock = Stopwatch.StartNew();
        await victim.KillAsync();
        var declared = PoolChecks.DeclaredDeadAsync(Admin, victim.ServerId, clock, Timeout);

        // A new checkout by a client that lists the victim first is served by the next server at once.
        var newcomer = await Track(pool.ClientServices(victim, "client-newcomer")).GetRequiredService<LicensingClient>().AcquireAsync(code);
        var newcomerServed = clock.Elapsed;
        ledger.Granted(newcomer.LeaseId, newcomer.Count);
        Assert.NotEqual(victim.ServerId, newcomer.ServerId);
        leases.Add(newcomer);

        await Until.TrueAsync(() => Task.FromResult(victimLeases.All(v => v.Lease.FailOvers > 0)), Timeout, "the victim's clients to be adopted elsewhere");
        var served = clock.Elapsed;
        var dead = await declared;
        output.WriteLine($"kill -> a new checkout (victim first in the client's list) granted by {newcomer.ServerId}: {newcomerServed.TotalSeconds:0.00} s");
        output.WriteLine($"kill -> all clients of {victim.ServerId} renewed (adopted) at another server: {served.TotalSeconds:0.00} s");
        output.WriteLine($"kill -> membership declares {victim.ServerId} dead (GET /api/v1/servers): {dead.TotalSeconds:0.00} s");
        output.WriteLine($"membership: {pool.MembershipSummary}; lease TTL {pool.LeaseTtl.TotalSeconds} s (renew after a third)");

        foreach (var (lease, id, count) in victimLeases)
        {
            Assert.Equal(id, lease.LeaseId);
            Assert.Equal(count, lease.Count);
            Assert.NotEqual(victim.ServerId, lease.ServerId);
        }

        Assert.All(leases, l => Assert.False(l.IsLost));

        // The leader sees the victim down; once both leases were adopted nothing is held for it any more.
        var afterKill = await LicenseWhenAsync(Admin, code,
            l => Row(l, victim.ServerId).Status == "Down" && Row(l, victim.ServerId).Held == 0, Timeout, "the victim down with nothing held");
        AssertTotal(afterKill);

        // The victim's unused allocation is a source now: the live servers grant exactly the 2 seats left, no more.
        var live = pool.Servers.Where(s => s != victim).ToList();
        var filled = await FillAsync(code, live, ledger, Track);
        await using var renewal = new FilledRenewal(code, filled, pool.LeaseTtl);
        Assert.Equal(seats - 7, filled.Count);
        Assert.Equal(seats, ledger.Outstanding);
        var full = await Admin.GetLicenseAsync(code);
        AssertTotal(full);
        Assert.Equal(seats, live.Sum(s => Row(full, s.ServerId).InUse));

        // Restart the victim with the same server id: it rejoins, syncs, and never counts the adopted leases again.
        clock.Restart();
        await victim.StartAsync();
        output.WriteLine($"restart of {victim.ServerId} until /readyz: {clock.Elapsed.TotalSeconds:0.00} s");
        var rejoined = await LicenseWhenAsync(Admin, code, l => l.Servers.All(s => s.Status == "Up"), Timeout, "every server up");
        Assert.Equal(0, Row(rejoined, victim.ServerId).InUse);
        Assert.Equal(ledger.Outstanding, InUse(rejoined));
        AssertTotal(rejoined);

        // It serves again: free one seat at the leader server, and a client of the victim gets it (borrowed there).
        var leader = rejoined.Leader;
        Assert.NotEqual(victim.ServerId, leader);
        var atLeader = leases.First(l => l.ServerId == leader);
        await atLeader.DisposeAsync();
        ledger.Released(atLeader.LeaseId);
        leases.Remove(atLeader);
        var victimClient = Track(PostgresPoolFixture.ClientServices([victim.Url], "client-after-restart")).GetRequiredService<LicensingClient>();
        var again = await victimClient.AcquireAsync(code);
        ledger.Granted(again.LeaseId, again.Count);
        leases.Add(again);
        Assert.Equal(victim.ServerId, again.ServerId);

        var end = await Admin.GetLicenseAsync(code);
        Assert.Equal(seats, ledger.Outstanding);
        Assert.Equal(seats, InUse(end));
        Assert.Equal(1, Row(end, victim.ServerId).InUse);
        AssertTotal(end);
        Assert.True(ledger.Peak <= seats, $"clients held {ledger.Peak} > {seats} seats at once");

        foreach (var lease in leases)
        {
            Assert.False(lease.IsLost);
            await lease.DisposeAsync();
        }

        await renewal.DisposeAsync();
        Assert.Empty(renewal.Refused);
        await CheckinFilledAsync(code, filled);
        await LicenseWhenAsync(Admin, code, l => InUse(l) == 0, Timeout, "every lease checked in");
        await monitor.AssertNoViolationAsync();
    }

    [PostgresProcessFact, Trait("Claim", "5")]
    public async Task Killing_the_leader_during_borrowing_loses_and_duplicates_no_allocation()
    {
        var code = PoolFixture.NewCode("PGL");
        const int seats = 24;
        var ledger = new SeatLedger();
        var added = await Admin.AddLicenseAsync(TestSecurity.License(code, seats, "CAD",
            distribution: new DistributionRequest(Shares: pool.Servers.ToDictionary(s => s.ServerId, _ => 2))));
        Assert.Equal(seats - 6, added.FreePool);
        var victim = pool[added.Leader];
        await using var monitor = new InvariantMonitor(Admin, code);

        // Borrowing load: a worker per server checks out single seats (SDK, all three URLs, its own server first); every
        // server runs past its 2 seats at once, so checkouts keep borrowing from the leader.
        var leases = new List<LicenseLease>();
        var killAfter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int unavailable = 0, denied = 0;
        using var stop = new CancellationTokenSource();
        var workers = pool.Servers.Select(server => Task.Run(async () =>
        {
            var client = Track(pool.ClientServices(server, $"worker-{server.ServerId}")).GetRequiredService<LicensingClient>();
            for (var i = 0; i < 6 && !stop.IsCancellationRequested; i++)
            {
                try
                {
                    var lease = await client.AcquireAsync(code, cancellationToken: stop.Token);
                    ledger.Granted(lease.LeaseId, lease.Count);
                    lock (leases) leases.Add(lease);
                    if (ledger.Outstanding >= 8) killAfter.TrySetResult();
                }
                catch (Exception e) when (e is LicensingUnavailableException or LicensingProblemException { Error: "no-allocation" })
                {
                    // The leader is gone for a moment: try again (a load generator's retry, not a synchronisation).
                    i--;
                    if (e is LicensingUnavailableException) Interlocked.Increment(ref unavailable);
                    else Interlocked.Increment(ref denied);
                    await Task.Delay(100, stop.Token);
                }
            }
        })).ToList();

        await killAfter.Task.WaitAsync(Timeout);
        var clock = Stopwatch.StartNew();
        await victim.KillAsync();
        output.WriteLine($"killed {victim.ServerId} (leader of {code}) with {ledger.Outstanding} seats granted");
        var dead = await PoolChecks.DeclaredDeadAsync(Admin, victim.ServerId, clock, Timeout);
        output.WriteLine($"kill -> membership declares the leader server dead: {dead.TotalSeconds:0.00} s");

        // Every worker got its 6 seats (18 of 24): checkouts past the servers' shares went on while the leader died.
        await Task.WhenAll(workers).WaitAsync(Timeout);
        output.WriteLine($"kill -> every worker had its 6 seats: {clock.Elapsed.TotalSeconds:0.00} s (checkouts retried: {unavailable} times no server answered, {denied} times no-allocation)");
        Assert.Equal(18, ledger.Outstanding);

        // A new leader took over from storage; the victim's clients were adopted, and nothing is held for it.
        List<LicenseLease> all;
        lock (leases) all = [.. leases];
        await Until.TrueAsync(() => Task.FromResult(all.All(l => l.ServerId != victim.ServerId)), Timeout, "the victim's clients to fail over");
        var settled = await LicenseWhenAsync(Admin, code,
            l => l.Leader != victim.ServerId && Row(l, victim.ServerId) is { Status: "Down", Held: 0 }, Timeout, "a new leader and nothing held");
        output.WriteLine($"kill -> new leader {settled.Leader}, victim's leases adopted: {clock.Elapsed.TotalSeconds:0.00} s");
        AssertTotal(settled);

        // 18 in use at the live servers, once no checkout is left whose answer was lost: a client that timed out at one
        // server got its seat at another, and the first grant, renewed by nobody, holds a seat for at most one TTL.
        settled = await LicenseWhenAsync(Admin, code, l => InUse(l) - Row(l, victim.ServerId).InUse == 18, pool.LeaseTtl * 3, "18 in use at the live servers");
        AssertTotal(settled);

        // Clients fill exactly the seats: no allocation was lost or duplicated.
        var live = pool.Servers.Where(s => s != victim).ToList();
        var filled = await FillAsync(code, live, ledger, Track);
        Assert.Equal(seats - 18, filled.Count);
        var full = await Admin.GetLicenseAsync(code);
        AssertTotal(full);
        Assert.Equal(seats, live.Sum(s => Row(full, s.ServerId).InUse));
        Assert.True(ledger.Peak <= seats, $"clients held {ledger.Peak} > {seats} seats at once");
        Assert.All(all, l => Assert.False(l.IsLost));

        foreach (var lease in all) await lease.DisposeAsync();
        await CheckinFilledAsync(code, filled);
        await victim.StartAsync();
        var end = await LicenseWhenAsync(Admin, code, l => l.Servers.All(s => s.Status == "Up") && InUse(l) == 0, Timeout, "all up and idle");
        AssertTotal(end);
        await monitor.AssertNoViolationAsync();
    }

    /// <summary>
    /// The fill's leases have no heartbeats and 6-second leases: one checked out early may have expired by now, which
    /// returns its seat as a check-in would (the "all idle" check after this sees it either way).
    /// </summary>
    private static async Task CheckinFilledAsync(string code, IEnumerable<(LeaseInfo Lease, LicensingClient Client)> filled)
    {
        foreach (var (lease, client) in filled)
        {
            try
            {
                await client.CheckinAsync(code, lease.LeaseId, lease.ServerId);
            }
            catch (LicensingProblemException e) when (e.Error == "lease-unknown")
            {
            }
        }
    }
}
