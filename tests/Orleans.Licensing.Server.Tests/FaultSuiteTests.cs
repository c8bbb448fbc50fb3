using Orleans.Licensing.Server.Tests.Infrastructure;
using Orleans.Licensing.Server.Tests.Infrastructure.Faults;
using Xunit.Abstractions;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// Real faults on three server processes on PostgreSQL (shrunk failure detection, 6 s leases), with 30 SDK clients
/// churning on 20 seats: SIGSTOP past failure detection, and repeated SIGKILLs. The clients' ledger must show no
/// over-issue and no in-time update refused, and the table must add up at the end (see <see cref="FaultRun"/>).
/// </summary>
[Collection(FaultCollection.Name), Trait("Suite", "Faults"), Trait("Category", "Process"), Trait("Storage", "PostgreSQL")]
public sealed class FaultSuiteTests(FaultFixture pool, ITestOutputHelper output)
{
    private static readonly TimeSpan Serving = TimeSpan.FromSeconds(90);

    [PostgresProcessFact, Trait("Claim", "13"), Trait("Claim", "14"), Trait("Claim", "15")]
    public async Task Pausing_a_server_past_failure_detection_over_issues_no_seat_and_refuses_no_live_lease()
    {
        await using var run = await FaultRun.StartAsync(pool, output, FaultLoad.FullPool(), nameof(Pausing_a_server_past_failure_detection_over_issues_no_seat_and_refuses_no_live_lease));
        await run.RunForAsync(TimeSpan.FromSeconds(6));

        // First a server that is not the leader (the leader counts its seats elsewhere), then the leader server itself.
        var leader = await run.LeaderAsync();
        var other = pool.Servers.First(s => s != leader);
        foreach (var victim in new[] { other, leader })
        {
            run.Note($"{victim.ServerId} holds {run.HeldAt(victim.ServerId).Count} leases");
            run.Servers.Pause(victim);
            await AwaitDeclaredDeadAsync(run, victim);
            await run.RunForAsync(TimeSpan.FromSeconds(6));   // its clients fail over; its seats are served elsewhere
            run.Servers.Resume(victim);
            await run.RunForAsync(TimeSpan.FromSeconds(2));   // resumed, it may serve before it finds itself dead
            await run.Servers.AwaitServingAsync(victim, Serving);
            run.Note($"{victim.ServerId} serving again");
            await run.RunForAsync(TimeSpan.FromSeconds(4));
        }

        await run.FinishAsync();
    }

    [PostgresProcessFact, Trait("Claim", "13"), Trait("Claim", "14"), Trait("Claim", "15")]
    public async Task Killing_servers_repeatedly_with_a_full_pool_over_issues_no_seat_and_refuses_no_live_lease()
    {
        await using var run = await FaultRun.StartAsync(pool, output, FaultLoad.FullPool(), nameof(Killing_servers_repeatedly_with_a_full_pool_over_issues_no_seat_and_refuses_no_live_lease));
        await run.RunForAsync(TimeSpan.FromSeconds(6));
        foreach (var victim in pool.Servers)
        {
            run.Note($"{victim.ServerId} holds {run.HeldAt(victim.ServerId).Count} leases");
            await run.Servers.KillAsync(victim);
            await run.RunForAsync(TimeSpan.FromSeconds(5));
            run.Servers.Revive(victim);
            await run.Servers.AwaitServingAsync(victim, Serving);
            run.Note($"{victim.ServerId} serving again");
            await run.RunForAsync(TimeSpan.FromSeconds(3));
        }

        await run.FinishAsync();
    }

    /// <summary>The pause must outlast failure detection: the others write the server's membership row Dead.</summary>
    internal static async Task AwaitDeclaredDeadAsync(FaultRun run, ServerProcess victim)
    {
        var since = run.Ledger.Now;
        try
        {
            await Until.TrueAsync(async () =>
                await PostgresRows.LatestStatusAsync(PostgresPoolFixture.ConnectionString!, run.ClusterId, victim.ServerId) == "Dead",
                TimeSpan.FromSeconds(120), $"membership to declare {victim.ServerId} dead");
            run.Note($"{victim.ServerId} declared dead {(run.Ledger.Now - since).TotalSeconds:0.0} s after the fault");
        }
        catch (TimeoutException e)
        {
            run.Fail(e.Message);
        }
    }
}
