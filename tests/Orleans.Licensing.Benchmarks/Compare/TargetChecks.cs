using System.Globalization;
using System.Text;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// The two targets of issue 5 that the closed-loop rows do not show (docs/benchmarks.md, "What is measured"):
/// latency at half of the peak load, offered open-loop ("p99 ≤ 10 ms over HTTP at half of peak load"), and leader calls
/// on a workload that has to borrow ("leader calls ≤ 2 % of checkouts at steady state").
/// </summary>
internal sealed class TargetChecks(Settings settings, string[] args, string runId, List<string> missing)
{
    /// <summary>The offered rate of the open-loop phase, as a share of the closed-loop peak (the target's is 0.5; <c>--load-fraction</c> to sweep).</summary>
    private double LoadFraction => Value("--load-fraction") is { } f ? double.Parse(f, CultureInfo.InvariantCulture) : 0.5;

    /// <summary>The target of issue 5 for checkout p99 over HTTP at that rate.</summary>
    public const double TargetP99Ms = 10;

    /// <summary>Share of the clients on the busy server of the skewed workload: `--skewed-busy`, by default 0.8.</summary>
    private double BusyShare => Double("--skewed-busy", 0.8);

    public List<OpenLoopResult> OpenLoopResults { get; } = [];

    public SkewedResult? Skewed { get; private set; }

    /// <summary>Seats of the skewed code: `--skewed-seats`, by default 2 × C (base share 2C/3 per server, below the C the busy server needs).</summary>
    private int SkewedSeats => Int("--skewed-seats", 2 * settings.Clients);

    /// <summary>
    /// The leader-calls figure of the ratios line: Borrow calls ÷ checkouts granted in the measured (steady-state) window
    /// of the skewed workload, in percent; "n/a" when it was not measured. The hot workload never borrows.
    /// </summary>
    public string LeaderCallsPercent => Skewed?.MeasuredLeaderCallsPercent is { } p ? p.ToString("F2", CultureInfo.InvariantCulture) : "n/a";

    /// <summary>
    /// After a contender's closed-loop hot run: the same contender, on a fresh code of S seats, open-loop at half of the
    /// pairs/s it reached.
    /// </summary>
    public async Task HalfLoadAsync(Contender contender, IReadOnlyList<Result> results)
    {
        var peak = results.FirstOrDefault(r => r.Contender == contender.Name && r.Workload == "hot");
        if (peak is null || !(peak.PairsPerSecond > 0))
        {
            missing.Add($"{contender.Name} open loop at half load: no closed-loop peak on the hot workload to take half of");
            return;
        }

        Console.WriteLine($"   hot, open loop at {LoadFraction:P0} of {peak.PairsPerSecond:F1} pairs/s ...");
        try
        {
            var result = await OpenLoop.MeasureAsync(contender, "hot", [$"b{runId}-{contender.Name}-half"], peak.PairsPerSecond, LoadFraction, settings);
            OpenLoopResults.Add(result);
            Console.WriteLine($"   hot, open loop: offered {result.TargetPairsPerSecond:F1} pairs/s, achieved {result.AchievedPairsPerSecond:F1}, checkout p50 {result.CheckoutP50Ms} ms p99 {result.CheckoutP99Ms} ms, "
                + $"pair p50 {result.PairP50Ms} ms p99 {result.PairP99Ms} ms, denied {result.Denied}, errors {result.Errors}, unfinished {result.Unfinished}{(result.FirstError is null ? "" : $" (first: {result.FirstError})")}");
        }
        catch (Exception e)
        {
            Console.WriteLine($"   hot, open loop: FAILED: {e.GetType().Name}: {e.Message}");
            missing.Add($"{contender.Name} open loop at half load: failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" | ")}");
        }
    }

    /// <summary>The skewed workload on the in-process cluster; its row joins <paramref name="results"/>.</summary>
    public async Task SkewedAsync(Cluster cluster, List<Result> results)
    {
        var contender = new OursSkewed(cluster, settings.Clients, BusyShare);
        var code = $"b{runId}-ours-skewed";
        try
        {
            var result = await Runner.MeasureAsync(contender, "skewed", [code], settings with { Seats = SkewedSeats });
            results.Add(result);
            var after = await contender.DistributionAsync(code);
            static double? Percent(long? calls, long? checkouts) => calls is { } c && checkouts is > 0 ? Math.Round(100.0 * c / checkouts.Value, 3) : null;
            Skewed = new SkewedResult(
                code, SkewedSeats, settings.Clients, contender.BusyServer, contender.LeaderServer, contender.ClientsPerServer,
                after?[contender.BusyServer]?.Threshold ?? double.NaN,
                settings.Warmup.TotalSeconds, result.WarmupLeaderCalls ?? 0, result.WarmupCheckouts ?? 0, Percent(result.WarmupLeaderCalls, result.WarmupCheckouts),
                result.Seconds, result.LeaderCalls ?? 0, result.Checkouts, Percent(result.LeaderCalls, result.Checkouts),
                result.PairsPerSecond, result.Denied, result.Errors,
                after?.FreePool ?? -1, after?.Servers.ToDictionary(s => s.ServerId, s => s.Allocated) ?? [], after?.Version ?? -1);
            Console.WriteLine($"   skewed: {result.PairsPerSecond:F1} pairs/s; leader calls warm-up {Skewed.WarmupLeaderCalls} / {Skewed.WarmupCheckouts} checkouts, "
                + $"measured {Skewed.MeasuredLeaderCalls} / {Skewed.MeasuredCheckouts}; denied {result.Denied}, errors {result.Errors}{(result.FirstError is null ? "" : $" (first: {result.FirstError})")}");
        }
        catch (Exception e)
        {
            Console.WriteLine($"   skewed: FAILED: {e.GetType().Name}: {e.Message}");
            missing.Add($"ours on the skewed workload: failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" | ")}");
        }
    }

    /// <summary>The two sections printed after the main table.</summary>
    public string Report()
    {
        var s = new StringBuilder();
        if (OpenLoopResults.Count > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"open loop at {LoadFraction:P0} of the closed-loop peak (hot code, S={settings.Seats}, pair k started at t0 + k / rate by client k mod C, latency from the intended start; target: checkout p99 ≤ {TargetP99Ms} ms over HTTP):");
            s.AppendLine();
            s.AppendLine("| workload | contender | closed-loop peak pairs/s | offered pairs/s | achieved pairs/s | checkout p50 ms | checkout p99 ms | pair p50 ms | pair p99 ms | start lag p50 / p99 ms | max in flight | denied | errors | unfinished | CPU % machine | CPU % this process | CPU % store | CPU % other processes |");
            s.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in OpenLoopResults)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"| {r.Workload} open loop ({r.Codes} code) | {r.Contender} | {r.PeakPairsPerSecond:F1} | {r.TargetPairsPerSecond:F1} | {r.AchievedPairsPerSecond:F1} | {r.CheckoutP50Ms:F2} | {r.CheckoutP99Ms:F2} | {r.PairP50Ms:F2} | {r.PairP99Ms:F2} | {r.StartLagP50Ms:F2} / {r.StartLagP99Ms:F2} | {r.MaxOutstanding} | {r.Denied} | {r.Errors} | {r.Unfinished} | {r.MachineCpuBusyPercent:F0} | {r.ProcessCpuPercent:F0} | {r.StoreCpuPercent:F0} | {r.OtherCpuPercent:F0} |");
            }

            s.AppendLine();
            foreach (var r in OpenLoopResults)
            {
                var verdict = r.CheckoutP99Ms <= TargetP99Ms ? "met" : "missed";
                s.AppendLine(CultureInfo.InvariantCulture, $"half load: {r.Contender} checkout p99 {r.CheckoutP99Ms:F2} ms, pair p99 {r.PairP99Ms:F2} ms at {r.AchievedPairsPerSecond:F1} pairs/s (target checkout p99 ≤ {TargetP99Ms} ms{(r.Contender == "ours-http" ? $": {verdict}" : ", stated for HTTP; grain level for comparison")})");
            }
        }

        if (Skewed is { } k)
        {
            if (s.Length > 0) s.AppendLine();
            var perServer = string.Join(", ", k.ClientsPerServer.Select(p => $"{p.Key} {p.Value}"));
            var allocated = string.Join(", ", k.AllocatedAfter.Select(p => $"{p.Key} {p.Value}"));
            s.AppendLine(CultureInfo.InvariantCulture, $"skewed (ours, 1 code, S={k.Seats}, even distribution, threshold {k.Threshold}): clients per server {perServer}; busy server {k.BusyServer}, leader on {k.LeaderServer}");
            s.AppendLine(CultureInfo.InvariantCulture, $"skewed leader calls (PoolGrain.Borrow) / checkouts: warm-up ({k.WarmupSeconds:F0} s) {k.WarmupLeaderCalls} / {k.WarmupCheckouts} = {Format(k.WarmupLeaderCallsPercent)}; measured steady state ({k.MeasuredSeconds:F0} s) {k.MeasuredLeaderCalls} / {k.MeasuredCheckouts} = {Format(k.MeasuredLeaderCallsPercent)} (target ≤ 2 %: {(k.MeasuredLeaderCallsPercent is { } p ? p <= 2 ? "met" : "missed" : "n/a")})");
            s.AppendLine(CultureInfo.InvariantCulture, $"skewed distribution after the run: allocated {allocated}, free pool {k.FreePoolAfter}, version {k.DistributionVersionAfter}");
        }

        return s.ToString().TrimEnd();
    }

    private static string Format(double? percent) => percent is { } p ? p.ToString("F2", CultureInfo.InvariantCulture) + "%" : "n/a";

    private string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

    private int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private double Double(string name, double fallback) => Value(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
