using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Benchmarks.Compare;

namespace Orleans.Licensing.Benchmarks.Scale;

/// <summary>
/// Part 2: many live leases at one ServerGrain. A one-silo cluster (so the even distribution gives every seat to that
/// one server) with a lease TTL of 6 hours (nothing expires during the run); one code with more seats than leases
/// (and usage below the 0.8 threshold, so no borrowing). Many concurrent callers check out until the target count.
/// </summary>
internal static class ManyLeases
{
    public const string Part = "2 many leases";
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromHours(6);

    public static async Task<List<Measure>> RunAsync(ScaleSettings s)
    {
        var measures = new List<Measure>();
        var seats = s.Leases + s.Leases / 2 + s.Pairs + 1_000;
        Console.WriteLine($"-- part {Part}: {s.Leases:N0} leases at one ServerGrain (1 silo, code of {seats:N0} seats, lease TTL {LeaseTtl}), {s.LeaseInFlight} in flight; budgets: filling {s.FillBudget.TotalSeconds} s, pairs {s.PairsBudget.TotalSeconds} s");
        await using var cluster = await Cluster.StartAsync(s.ConnectionString, 1, silo => silo.Services.Configure<LicensingOptions>(o => o.LeaseTtl = LeaseTtl));
        var code = $"s{Guid.NewGuid():N}"[..7] + "-big";
        var serverId = Cluster.ServerId(0);
        var grains = cluster.Grains(0);
        var grain = grains.GetServerGrain(serverId, code);
        await grain.AddLicenseCode(await BenchGrants.CodeAsync(grains, code, "bench", seats));

        MemorySampler memory;
        PhaseResult fill;
        var pairTimes = new List<double>();
        var pairErrors = 0;
        string? pairFirstError = null;
        double pairSeconds;
        await using (memory = new MemorySampler(ProcessMemory.PostgresProcesses))
        {
            fill = await Driver.RunAsync(s.Leases, s.LeaseInFlight, s.FillBudget, async i =>
                (await grain.Checkout(new CheckoutRequest($"L{i:D7}", $"client-{i % 1000}", 1))).Granted, "leases");
            Console.WriteLine($"   filling: {fill.Summary()}");
            Console.WriteLine($"   filling, per step: {fill.StepRates()}");

            // One caller, one pair at a time, with every lease of the fill still live.
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < s.Pairs && Stopwatch.GetElapsedTime(started) < s.PairsBudget; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    var leaseId = $"P{i:D7}";
                    if (!(await grain.Checkout(new CheckoutRequest(leaseId, "pair-client", 1))).Granted) throw new InvalidOperationException("denied");
                    if (!await grain.Checkin(leaseId, "pair-client")) throw new InvalidOperationException("not checked in");
                    pairTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
                catch (Exception e)
                {
                    pairErrors++;
                    pairFirstError ??= $"{e.GetType().Name}: {Driver.Short(e.Message)}";
                }
            }

            pairSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   pairs at the end: {pairTimes.Count} in {pairSeconds:F1} s, errors {pairErrors}"));
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var rssAfterFill = ProcessMemory.SelfRss();
        var storage = await StorageUse.QueryAsync(s.ConnectionString, cluster.ClusterId);

        measures.Add(new Measure(Part, "live leases at one ServerGrain", fill.Completed, "leases",
            $"target {s.Leases:N0}; denied {fill.Denied}, errors {fill.Errors}{(fill.FirstError is null ? "" : $" (first: {fill.FirstError})")}{(fill.OutOfTime ? $"; stopped at the {s.FillBudget.TotalSeconds} s budget" : "")}"));
        measures.Add(new Measure(Part, "checkouts while the count grows (whole fill)", Math.Round(fill.Rate, 1), "checkouts/s", $"{s.LeaseInFlight} in flight; per 10% step of {s.Leases:N0}: {fill.StepRates()}"));
        var lastStep = fill.Steps.Count >= 2 ? fill.Steps[^1] : default;
        var beforeLast = fill.Steps.Count >= 2 ? fill.Steps[^2] : default;
        if (fill.Steps.Count >= 2)
        {
            measures.Add(new Measure(Part, "checkouts in the last 10% step reached", Math.Round((lastStep.Count - beforeLast.Count) / (lastStep.Seconds - beforeLast.Seconds), 1), "checkouts/s",
                string.Create(CultureInfo.InvariantCulture, $"from {beforeLast.Count:N0} to {lastStep.Count:N0} leases")));
        }

        measures.Add(new Measure(Part, "checkout latency during the fill p50", fill.Percentile(0.5), "ms", $"{s.LeaseInFlight} in flight"));
        measures.Add(new Measure(Part, "checkout latency during the fill p99", fill.Percentile(0.99), "ms"));
        if (pairTimes.Count == 0)
        {
            measures.Add(Measure.Missing(Part, "one checkout + check-in pair at the end p50", "ms", $"no pair completed ({pairFirstError ?? "none tried"})"));
        }
        else
        {
            var sorted = pairTimes.Order().ToArray();
            double P(double p) => Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * p))], 2);
            var detail = string.Create(CultureInfo.InvariantCulture, $"{sorted.Length} sequential pairs (one caller) with {fill.Completed:N0} leases live; {pairSeconds:F1} s{(sorted.Length < s.Pairs ? $", stopped at the {s.PairsBudget.TotalSeconds} s budget" : "")}; errors {pairErrors}");
            measures.Add(new Measure(Part, "one checkout + check-in pair at the end p50", P(0.5), "ms", detail));
            measures.Add(new Measure(Part, "one checkout + check-in pair at the end p99", P(0.99), "ms", detail));
        }

        measures.Add(new Measure(Part, "peak RSS of this process", Math.Round(memory.PeakSelfRss / 1048576.0), "MB", "1 silo + callers"));
        measures.Add(new Measure(Part, "RSS after the fill, after a full GC", Math.Round(rssAfterFill / 1048576.0), "MB"));
        measures.Add(new Measure(Part, "peak PostgreSQL PSS", Math.Round(memory.PeakStorePss / 1048576.0), "MB", "all postgres processes"));
        measures.Add(new Measure(Part, "storage rows", storage.Rows, "rows", storage.Detail()));
        measures.Add(new Measure(Part, "storage payload bytes", Math.Round(storage.PayloadBytes / 1048576.0, 1), "MB", "sum(length(payload)) of this run's ServiceId"));
        measures.Add(new Measure(Part, "licensing_grain_state table size (whole table, with dead row versions)", Math.Round(storage.TableBytes / 1048576.0, 1), "MB", "pg_total_relation_size, every run on this database"));

        measures.AddRange(await ReactivateAsync(grains, grain, fill.Completed));
        return measures;
    }

    /// <summary>
    /// Deactivates the ServerGrain (IManagementGrain.DeactivateGrain), waits until the silo has no activation of it,
    /// then times the first call (a check-in of an unknown lease: it activates the grain, which loads its record and
    /// all lease pages and rejoins the leader, and then answers false).
    /// </summary>
    private static async Task<List<Measure>> ReactivateAsync(IGrainFactory grains, IServerGrain grain, int leases)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var grainId = grain.GetGrainId();
        try
        {
            await management.DeactivateGrain(grainId);
            var until = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
            while (await management.GetGrainActivationCount((GrainReference)grain) > 0)
            {
                if (Stopwatch.GetTimestamp() > until) return [Measure.Missing(Part, "re-activation with all leases", "s", "the grain was still active 60 s after DeactivateGrain")];
                await Task.Delay(50);
            }

            var t0 = Stopwatch.GetTimestamp();
            var answered = await grain.Checkin("no-such-lease", "pair-client");
            var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            var view = await grain.GetView();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   re-activation: {seconds:F2} s; it holds {view.Leases.Count:N0} leases ({view.InUse:N0} in use) after it"));
            var ok = view.Leases.Count == leases;
            return
            [
                new Measure(Part, "re-activation of the ServerGrain (first call after DeactivateGrain)", Math.Round(seconds, 3), "s",
                    $"loads the record + every lease page from PostgreSQL and rejoins the leader; answered {answered}; leases after it: {view.Leases.Count:N0} of {leases:N0}{(ok ? "" : " — MISMATCH")}"),
            ];
        }
        catch (Exception e)
        {
            return [Measure.Missing(Part, "re-activation of the ServerGrain", "s", $"{e.GetType().Name}: {Driver.Short(e.Message)}")];
        }
    }
}
