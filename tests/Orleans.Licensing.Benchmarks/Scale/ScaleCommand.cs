using System.Globalization;
using System.Text;
using System.Text.Json;
using Orleans.Licensing.Benchmarks.Compare;

namespace Orleans.Licensing.Benchmarks.Scale;

/// <summary>
/// `scale [--quick]`: how the pool behaves with many license codes, with many leases at one server, and after a server
/// is killed, on real PostgreSQL storage. See docs/benchmarks.md, "Scale runs".
/// </summary>
internal static class ScaleCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var s = ScaleSettings.Parse(args);
        var started = DateTime.UtcNow;
        Console.WriteLine($"scale ({(s.Quick ? "quick" : "full")}): part 1: {s.Codes:N0} codes on {s.CodeSilos} silos; part 2: {s.Leases:N0} leases at one ServerGrain, {s.LeaseInFlight} in flight, then {s.Pairs:N0} pairs; "
            + $"part 3: {s.FailoverLeases:N0} leases at a killed server of 3 processes{(s.FastMembership ? " (fast membership)" : "")}");
        Console.WriteLine($"time budgets (a phase that hits one stops and reports what it reached): adding codes {s.AddBudget.TotalSeconds} s, checkouts on codes {s.CheckoutBudget.TotalSeconds} s, "
            + $"filling leases {s.FillBudget.TotalSeconds} s, pairs {s.PairsBudget.TotalSeconds} s, each recovery phase {s.RecoveryBudget.TotalSeconds} s");

        if (!s.Quick)
        {
            Console.WriteLine("full mode: on a 2-core machine the full targets are out of reach in ~20 min (quick run of 2026-11-28: adding codes ~60/s, bound by the one catalog grain;"
                + " checkouts at one server fall roughly as 1/leases, ~1,500/s at 100,000 leases, so 1,000,000 would take about an hour). The budgets cap each phase at ~20-25 min in all;"
                + " the table prints the counts reached.");
        }

        await Postgres.EnsureReadyAsync(s.ConnectionString);
        var machine = await CompareCommand.DescribeMachineAsync(s.ConnectionString);
        machine["processes"] = "parts 1 and 2: the silos and the callers share this one process; part 3: 3 Orleans.Licensing.Server processes, callers here; PostgreSQL beside them on the same cores";
        foreach (var (key, value) in machine) Console.WriteLine($"{key}: {value}");

        var measures = new List<Measure>();
        async Task PartAsync(string part, Func<Task<List<Measure>>> run)
        {
            if (s.Only is not null && !s.Only.Any(o => part.StartsWith(o, StringComparison.Ordinal)))
            {
                measures.Add(Measure.Missing(part, "the whole part", "", "left out (--only)"));
                return;
            }

            try
            {
                measures.AddRange(await run());
            }
            catch (Exception e)
            {
                Console.WriteLine($"-- part {part}: FAILED: {e}");
                measures.Add(Measure.Missing(part, "the whole part", "", $"failed: {e.GetType().Name}: {Driver.Short(e.Message)}"));
            }
        }

        await PartAsync(ManyCodes.Part, () => ManyCodes.RunAsync(s));
        await PartAsync(ManyLeases.Part, () => ManyLeases.RunAsync(s));
        await PartAsync(Recovery.Part, () => Recovery.RunAsync(s));

        var elapsed = DateTime.UtcNow - started;
        Console.WriteLine();
        foreach (var (key, value) in machine) Console.WriteLine($"{key}: {value}");
        Console.WriteLine(Table(measures));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run time: {elapsed.TotalMinutes:F1} min"));

        var path = s.Out ?? Path.Combine("benchmark-results", $"scale-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(
            new
            {
                mode = s.Quick ? "quick" : "full",
                when = DateTimeOffset.UtcNow,
                runSeconds = Math.Round(elapsed.TotalSeconds, 1),
                machine,
                parameters = new
                {
                    codes = s.Codes, codeSilos = s.CodeSilos, codeInFlight = s.CodeInFlight, seatsPerServer = s.SeatsPerServer, leases = s.Leases, leaseInFlight = s.LeaseInFlight, pairs = s.Pairs,
                    failoverLeases = s.FailoverLeases, failoverInFlight = s.FailoverInFlight, fastMembership = s.FastMembership,
                    budgetsSeconds = new { add = s.AddBudget.TotalSeconds, checkouts = s.CheckoutBudget.TotalSeconds, fill = s.FillBudget.TotalSeconds, pairs = s.PairsBudget.TotalSeconds, recovery = s.RecoveryBudget.TotalSeconds },
                },
                measures = measures.Select(m => new { part = m.Part, measure = m.Name, value = m.Value, unit = m.Unit, detail = m.Detail }),
            },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Console.WriteLine($"json: {Path.GetFullPath(path)}");
        return 0;
    }

    private static string Table(IEnumerable<Measure> measures)
    {
        var s = new StringBuilder();
        s.AppendLine("| part | measure | value | unit | detail |");
        s.AppendLine("|---|---|---:|---|---|");
        foreach (var m in measures)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"| {m.Part} | {m.Name} | {m.Shown} | {m.Unit} | {m.Detail?.Replace("|", "/", StringComparison.Ordinal)} |");
        }

        return s.ToString().TrimEnd();
    }
}
