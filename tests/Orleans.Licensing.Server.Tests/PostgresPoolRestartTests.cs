using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;
using Xunit.Abstractions;
using static Orleans.Licensing.Server.Tests.Infrastructure.PoolChecks;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// Three license server processes on one PostgreSQL, restarted: all at once after a SIGKILL of every process, and one
/// at a time (graceful) under steady load. Leases live 60 s, so they outlive the restarts.
/// </summary>
[Collection(PostgresRestartCollection.Name), Trait("Category", "Process"), Trait("Storage", "PostgreSQL")]
public sealed class PostgresPoolRestartTests(PostgresRestartFixture pool, ITestOutputHelper output) : PostgresPoolTest(pool)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    [PostgresProcessFact]
    public async Task Killing_every_server_and_starting_them_again_keeps_codes_distributions_and_live_leases()
    {
        var shared = PoolFixture.NewCode("PGA");
        var even = PoolFixture.NewCode("PGB");
        await Admin.AddLicenseAsync(TestSecurity.License(shared, 10, "CAD",
            distribution: new DistributionRequest(Shares: new Dictionary<string, int> { ["pg-a"] = 4, ["pg-b"] = 3, ["pg-c"] = 2 },
                Thresholds: new Dictionary<string, double> { ["pg-b"] = 0.5 })));
        await Admin.AddLicenseAsync(TestSecurity.License(even, 6, "Viewer"));

        // Bare leases (no background renewal) and no re-distribution (the fixture), so nothing but the restart can change them.
        var leases = new List<(LeaseInfo Lease, ServerProcess Server)>();
        async Task CheckoutAt(string serverId, string code, int count)
        {
            var server = pool[serverId];
            var client = Track(PostgresPoolFixture.ClientServices([server.Url], $"bare-{serverId}")).GetRequiredService<LicensingClient>();
            var lease = await client.CheckoutAsync(code, count);
            Assert.Equal(serverId, lease.ServerId);
            leases.Add((lease, server));
        }

        for (var i = 0; i < 3; i++) await CheckoutAt("pg-a", shared, 1);
        await CheckoutAt("pg-b", shared, 2);
        await CheckoutAt("pg-c", shared, 2);
        await CheckoutAt("pg-a", even, 1);
        await CheckoutAt("pg-c", even, 2);

        var before = Snapshot(await Admin.GetLicensesAsync(), shared, even);
        output.WriteLine("before: " + before);

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(pool.Servers.Select(s => s.KillAsync()));
        await Task.WhenAll(pool.Servers.Select(s => s.StartAsync()));
        output.WriteLine($"SIGKILL of all three, start of all three until /readyz: {clock.Elapsed.TotalSeconds:0.00} s");

        string after = "";
        try
        {
            await Until.TrueAsync(async () =>
            {
                try
                {
                    after = Snapshot(await Admin.GetLicensesAsync(), shared, even);
                    return after == before;
                }
                catch (LicensingUnavailableException)
                {
                    return false;
                }
            }, Timeout, "the pool to be as it was");
        }
        catch (TimeoutException)
        {
            Assert.Equal(before, after);
        }

        output.WriteLine($"restart -> every code, distribution and lease count as before: {clock.Elapsed.TotalSeconds:0.00} s");

        // Every lease is alive at its own server, with its id and count: a heartbeat there renews it.
        foreach (var (lease, server) in leases)
        {
            var client = Track(PostgresPoolFixture.ClientServices([server.Url], lease.ClientId)).GetRequiredService<LicensingClient>();
            var renewed = await client.HeartbeatAsync(lease.Code, lease.LeaseId, lease.Count, lease.ServerId, lease.ClientId);
            Assert.Equal((lease.LeaseId, lease.Count, lease.ServerId), (renewed.LeaseId, renewed.Count, renewed.ServerId));
            Assert.True(renewed.ExpiresAt > lease.ExpiresAt);
            await client.CheckinAsync(lease.Code, lease.LeaseId, lease.ServerId, default);
        }

        foreach (var code in new[] { shared, even })
        {
            var idle = await LicenseWhenAsync(Admin, code, l => InUse(l) == 0, Timeout, "every lease checked in");
            AssertTotal(idle);
        }
    }

    [PostgresProcessFact]
    public async Task A_rolling_restart_under_steady_load_denies_no_checkout_and_loses_no_lease()
    {
        var code = PoolFixture.NewCode("PGR");
        const int seats = 12;
        await Admin.AddLicenseAsync(TestSecurity.License(code, seats, "CAD"));
        var ledger = new SeatLedger();
        await using var monitor = new InvariantMonitor(Admin, code);

        // Long-lived SDK leases, one homed at every server.
        var held = new List<LicenseLease>();
        foreach (var server in pool.Servers)
        {
            var lease = await Track(pool.ClientServices(server, $"long-{server.ServerId}")).GetRequiredService<LicensingClient>().AcquireAsync(code);
            ledger.Granted(lease.LeaseId, lease.Count);
            held.Add(lease);
        }

        // Steady load: a worker per server checks out one seat, holds it briefly and checks it in, over and over.
        // Demand (3 long + 3 workers) stays far below the 12 seats, so every checkout has capacity.
        var checkouts = 0;
        var failures = new List<string>();
        using var stop = new CancellationTokenSource();
        var workers = pool.Servers.Select(server => Task.Run(async () =>
        {
            var client = Track(pool.ClientServices(server, $"load-{server.ServerId}")).GetRequiredService<LicensingClient>();
            while (!stop.IsCancellationRequested)
            {
                LeaseInfo lease;
                try
                {
                    lease = await client.CheckoutAsync(code, 1);
                }
                catch (Exception e) when (e is LicensingProblemException or LicensingUnavailableException)
                {
                    lock (failures) failures.Add($"checkout: {e.Message}");
                    await Task.Delay(200);
                    continue;
                }

                ledger.Granted(lease.LeaseId, lease.Count);
                Interlocked.Increment(ref checkouts);
                await Task.Delay(50);   // the load's think time
                for (var retried = false; ; retried = true)
                {
                    try
                    {
                        await client.CheckinAsync(code, lease.LeaseId, lease.ServerId);
                        ledger.Released(lease.LeaseId);
                        break;
                    }
                    catch (LicensingUnavailableException) when (!stop.IsCancellationRequested)
                    {
                        // The lease's server is restarting: check in again once it is back.
                        await Task.Delay(200);
                    }
                    catch (LicensingProblemException e) when (retried && e.Error == "lease-unknown")
                    {
                        // The failed attempt before did check it in; only its answer was lost (the lease is gone).
                        ledger.Released(lease.LeaseId);
                        break;
                    }
                }
            }
        })).ToList();

        var clock = Stopwatch.StartNew();
        foreach (var server in pool.Servers)
        {
            var before = Volatile.Read(ref checkouts);
            await server.StopAsync();
            var others = pool.Servers.Where(s => s != server).Select(s => s.Url).ToList();
            var otherAdmin = Track(PostgresPoolFixture.ClientServices(others, "admin-others", TestRole.Admin)).GetRequiredService<LicensingClient>();
            await PoolChecks.DeclaredDeadAsync(otherAdmin, server.ServerId, clock, Timeout);
            await server.StartAsync();
            await LicenseWhenAsync(Admin, code, l => l.Servers.All(s => s.Status == "Up"), Timeout, $"{server.ServerId} up again");
            var served = Volatile.Read(ref checkouts);
            await Until.TrueAsync(() => Task.FromResult(Volatile.Read(ref checkouts) >= served + 6), Timeout, "checkouts after the restart");
            output.WriteLine($"{server.ServerId} restarted at {clock.Elapsed.TotalSeconds:0.0} s; {Volatile.Read(ref checkouts) - before} checkouts meanwhile");
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(Timeout);
        output.WriteLine($"rolling restart of 3 servers: {clock.Elapsed.TotalSeconds:0.0} s, {checkouts} checkouts, peak {ledger.Peak} seats");

        lock (failures) Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(ledger.Peak <= seats);
        Assert.Equal(3, ledger.Outstanding);

        // No lease was lost or counted twice: exactly the three long leases are in use, and each still renews.
        var view = await LicenseWhenAsync(Admin, code, l => InUse(l) == 3, Timeout, "exactly the long leases in use");
        AssertTotal(view);
        foreach (var lease in held)
        {
            Assert.False(lease.IsLost);
            var current = lease.Current;
            var home = Track(PostgresPoolFixture.ClientServices([lease.Server], current.ClientId)).GetRequiredService<LicensingClient>();
            var renewed = await home.HeartbeatAsync(code, current.LeaseId, current.Count, current.ServerId, current.ClientId);
            Assert.Equal((current.LeaseId, current.Count, current.ServerId), (renewed.LeaseId, renewed.Count, renewed.ServerId));
            await lease.DisposeAsync();
        }

        await LicenseWhenAsync(Admin, code, l => InUse(l) == 0, Timeout, "every lease checked in");
        await monitor.AssertNoViolationAsync();
    }

    /// <summary>What must survive: per code its terms, free pool and every server's allocated, share, threshold and in-use.</summary>
    private static string Snapshot(IReadOnlyList<LicenseInfo> licenses, params string[] codes) =>
        string.Join(" | ", codes.Select(code => licenses.Single(l => l.Code == code)).Select(l =>
            $"{l.Code} {l.Product} seats {l.Seats} free {l.FreePool}: " +
            string.Join(", ", l.Servers.OrderBy(s => s.ServerId).Select(s =>
                $"{s.ServerId} {s.Status} alloc {s.Allocated} base {s.BaseShare} thr {s.Threshold} inUse {s.InUse} held {s.Held}"))));
}
