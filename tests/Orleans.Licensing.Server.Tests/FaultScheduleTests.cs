using System.Globalization;
using Orleans.Licensing.Server.Tests.Infrastructure;
using Orleans.Licensing.Server.Tests.Infrastructure.Faults;
using Xunit.Abstractions;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// Seeded fault schedules on the three server processes: kills, pauses past failure detection and restarts at random
/// moments, with a seeded client mix (seats, clients, counts, hold times). LICENSING_FAULT_SEED is the first seed (1),
/// LICENSING_FAULT_SCHEDULES how many (2 in CI; hundreds by hand); each schedule runs about 30 s of faults.
/// </summary>
[Collection(FaultCollection.Name), Trait("Suite", "Faults"), Trait("Category", "Process"), Trait("Storage", "PostgreSQL")]
public sealed class FaultScheduleTests(FaultFixture pool, ITestOutputHelper output)
{
    private static readonly TimeSpan FaultTime = TimeSpan.FromSeconds(30);

    [PostgresProcessFact, Trait("Claim", "13"), Trait("Claim", "14"), Trait("Claim", "15")]
    public async Task Random_fault_schedules_over_issue_no_seat_and_refuse_no_live_lease()
    {
        var first = int.TryParse(Environment.GetEnvironmentVariable("LICENSING_FAULT_SEED"), CultureInfo.InvariantCulture, out var f) ? f : 1;
        var count = int.TryParse(Environment.GetEnvironmentVariable("LICENSING_FAULT_SCHEDULES"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 2;
        var failed = new List<string>();
        for (var seed = first; seed < first + count; seed++)
        {
            try
            {
                await RunScheduleAsync(seed);
                output.WriteLine($"seed {seed}: every invariant held");
            }
            catch (Exception e)
            {
                failed.Add($"seed {seed} (replay: LICENSING_FAULT_SEED={seed} LICENSING_FAULT_SCHEDULES=1): {e.Message}");
                output.WriteLine($"seed {seed}: FAILED");
            }
        }

        Assert.True(failed.Count == 0, $"{failed.Count} of {count} schedules failed:\n{string.Join("\n\n", failed)}");
    }

    private async Task RunScheduleAsync(int seed)
    {
        var random = new Random(seed);
        var seats = random.Next(12, 25);
        var load = new FaultLoad(seats, (int)(seats * (1.2 + random.NextDouble() * 0.6)), random.Next(3, 7),
            TimeSpan.FromSeconds(0.5 + random.NextDouble()), TimeSpan.FromSeconds(random.Next(4, 11)),
            TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(random.Next(500, 2000)), seed);
        await using var run = await FaultRun.StartAsync(pool, output, load, "schedule");
        var faults = new Dictionary<string, Task>();   // per server: its fault until it serves again
        var until = run.Ledger.Now + FaultTime;
        await run.RunForAsync(TimeSpan.FromSeconds(3));
        while (run.Ledger.Now < until)
        {
            await run.RunForAsync(TimeSpan.FromSeconds(1 + random.NextDouble() * 4));
            var healthy = pool.Servers.Where(s => !faults.TryGetValue(s.ServerId, out var t) || t.IsCompleted).ToList();
            // Mostly one fault at a time; now and then a second server while the first is still down.
            if (healthy.Count < 2 || (healthy.Count == 2 && random.NextDouble() > 0.25)) continue;
            var victim = healthy[random.Next(healthy.Count)];
            var action = random.NextDouble();
            if (action < 0.2) continue;
            var length = TimeSpan.FromSeconds(action < 0.6 ? 1 + random.NextDouble() * 8 : 2 + random.NextDouble() * 12);
            if (faults.TryGetValue(victim.ServerId, out var done)) await done;   // completed: surfaces its exception
            faults[victim.ServerId] = action < 0.6 ? KillAndRestartAsync(run, victim, length) : PauseAndResumeAsync(run, victim, length);
        }

        await Task.WhenAll(faults.Values);
        await run.FinishAsync();
    }

    private static async Task KillAndRestartAsync(FaultRun run, ServerProcess victim, TimeSpan down)
    {
        await run.Servers.KillAsync(victim);
        await Task.Delay(down);
        run.Servers.Revive(victim);
        await run.Servers.AwaitServingAsync(victim, TimeSpan.FromSeconds(90));
        run.Note($"{victim.ServerId} serving again");
    }

    private static async Task PauseAndResumeAsync(FaultRun run, ServerProcess victim, TimeSpan paused)
    {
        run.Servers.Pause(victim);
        await Task.Delay(paused);
        run.Servers.Resume(victim);
        await run.Servers.AwaitServingAsync(victim, TimeSpan.FromSeconds(90));
        run.Note($"{victim.ServerId} serving again");
    }
}
