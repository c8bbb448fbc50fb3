using Orleans.Licensing.Server.Tests.Infrastructure;
using Orleans.Licensing.Server.Tests.Infrastructure.Faults;
using Xunit.Abstractions;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// SIGKILLs with Orleans' default membership timing and a full pool: the killed server's clients fail over within a
/// renewal period, long before membership declares it dead, so the adopters must get the seats that moved with the
/// leases (or say "retry"), never refuse them.
/// </summary>
[Collection(DefaultMembershipFaultCollection.Name), Trait("Suite", "Faults"), Trait("Category", "Process"), Trait("Storage", "PostgreSQL")]
public sealed class DefaultMembershipFaultTests(DefaultMembershipFaultFixture pool, ITestOutputHelper output)
{
    private static readonly TimeSpan Serving = TimeSpan.FromSeconds(120);

    [PostgresProcessFact, Trait("Claim", "13"), Trait("Claim", "14"), Trait("Claim", "15")]
    public async Task Clients_of_a_killed_server_fail_over_before_it_is_declared_dead_and_keep_their_seats()
    {
        await using var run = await FaultRun.StartAsync(pool, output, FaultLoad.FullPool(), nameof(Clients_of_a_killed_server_fail_over_before_it_is_declared_dead_and_keep_their_seats));
        await run.RunForAsync(TimeSpan.FromSeconds(6));

        // A server that is not the leader, down until membership declares it dead.
        var leader = await run.LeaderAsync();
        var victim = pool.Servers.First(s => s != leader);
        var theirs = run.HeldAt(victim.ServerId);
        run.Note($"{victim.ServerId} holds {theirs.Count} leases");
        var killedAt = run.Ledger.Now;
        await run.Servers.KillAsync(victim);
        await Until.TrueAsync(() => Task.FromResult(theirs.All(l => l.End <= run.Ledger.Now || l.Acks[^1].ServerId != victim.ServerId)),
            TimeSpan.FromSeconds(30), $"the clients of {victim.ServerId} to fail over or end");
        var failedOver = run.Ledger.Now - killedAt;
        run.Note($"every client of {victim.ServerId} renewed elsewhere or ended {failedOver.TotalSeconds:0.0} s after the kill " +
                 $"({theirs.Count(l => l.Acks.Any(a => a.FailedOver))} adopted, {theirs.Count(l => l.Lost is not null)} lost)");
        await FaultSuiteTests.AwaitDeclaredDeadAsync(run, victim);
        var declared = run.Ledger.Now - killedAt;
        if (failedOver >= declared) run.Fail($"fail-over took {failedOver.TotalSeconds:0.0} s, not less than death declaration ({declared.TotalSeconds:0.0} s)");
        await run.RunForAsync(TimeSpan.FromSeconds(3));
        run.Servers.Revive(victim);
        await run.Servers.AwaitServingAsync(victim, Serving);
        run.Note($"{victim.ServerId} serving again");
        await run.RunForAsync(TimeSpan.FromSeconds(4));

        // The leader server, restarted before membership would declare it dead (its new generation replaces the old).
        await run.Servers.KillAsync(leader);
        await run.RunForAsync(TimeSpan.FromSeconds(8));
        run.Servers.Revive(leader);
        await run.Servers.AwaitServingAsync(leader, Serving);
        run.Note($"{leader.ServerId} serving again");
        await run.RunForAsync(TimeSpan.FromSeconds(4));
        await run.FinishAsync();
    }
}
