using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Npgsql;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>One demand level of the congestion phase: the open-loop result plus what the servers and the store did in its window.</summary>
internal sealed record CongestionResult(
    double Demand,
    int Seats,
    double HoldMs,
    OpenLoopResult OpenLoop,
    long LeaderCalls,
    double LeaderCallsPercent,
    IReadOnlyDictionary<string, long> PoolCallsByMethod,
    long StorageWrites,
    double StorageWritesPerCheckout,
    IReadOnlyDictionary<string, long> StorageWritesByGrain);

/// <summary>
/// Issue 9, item 6: demand beyond the seats on one hot code over HTTP (docs/benchmarks.md, "Congestion"). Each level
/// offers demand × seats ÷ hold checkouts per second open-loop, every granted holder keeping its seat for the hold
/// time, so the seats' worth of demand is <c>demand</c> × seats. Leader calls are counted by each server process
/// (its outgoing calls to IPoolGrain, read from its diagnostics endpoint) and storage writes by the store itself
/// (Σ version of the pool's rows: every insert is version 1, every update adds 1).
/// </summary>
internal sealed class Congestion(Settings settings, string[] args, string runId)
{
    /// <summary>Denial p99 may be at most this many times the unloaded grant p99; leader calls at most this share of requests.</summary>
    public const double DenialP99Factor = 2, LeaderCallsTargetPercent = 2;

    private string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

    private int Seats => Value("--congestion-seats") is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : 60;

    private TimeSpan Hold => TimeSpan.FromMilliseconds(Value("--congestion-hold-ms") is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : 500);

    /// <summary>The first level is the unloaded reference.</summary>
    private double[] Levels => Value("--congestion-levels") is { } v ? [.. v.Split(',').Select(l => double.Parse(l, CultureInfo.InvariantCulture))] : [0.5, 2, 5];

    public List<CongestionResult> Results { get; } = [];

    public async Task RunAsync()
    {
        var (servers, missing) = await HttpServers.StartAsync(settings.ConnectionString, 3, new Dictionary<string, string> { ["Licensing__DiagnosticsEndpoint"] = "true" });
        if (servers is null) throw new InvalidOperationException(missing);
        await using (servers)
        {
            Console.WriteLine($"-- congestion: 3 server processes, one hot code of {Seats} seats per level, hold {Hold.TotalMilliseconds} ms, demand levels {string.Join(", ", Levels.Select(l => $"{l}×"))} of the seats");
            var first = true;
            foreach (var level in Levels)
            {
                var rate = level * Seats / Hold.TotalSeconds;
                // The servers are fresh processes: the first level also warms up their JIT, as in the other phases.
                var levelSettings = settings with { Seats = Seats, Hold = Hold, Warmup = settings.Warmup + (first ? TimeSpan.FromSeconds(4) : TimeSpan.Zero) };
                first = false;
                (IReadOnlyDictionary<string, long> Calls, IReadOnlyDictionary<string, long> Writes) before = (Empty, Empty), after = (Empty, Empty);
                var open = await OpenLoop.MeasureAsync(servers, $"congestion {level}×", [$"b{runId}-congestion-{level.ToString(CultureInfo.InvariantCulture)}"], rate, 1, levelSettings,
                    async () => before = (await PoolCallsAsync(servers), await WritesAsync(servers.ClusterId)),
                    async () => after = (await PoolCallsAsync(servers), await WritesAsync(servers.ClusterId)));
                var calls = Delta(before.Calls, after.Calls);
                var writes = Delta(before.Writes, after.Writes);
                var leader = calls.GetValueOrDefault(nameof(IPoolGrain.Borrow));
                var result = new CongestionResult(
                    level, Seats, Hold.TotalMilliseconds, open, leader, Percent(leader, open.Scheduled), calls,
                    writes.Values.Sum(), open.Scheduled > 0 ? Math.Round((double)writes.Values.Sum() / open.Scheduled, 3) : double.NaN, writes);
                Results.Add(result);
                Console.WriteLine($"   {level}×: offered {open.TargetPairsPerSecond}/s, requests {open.Scheduled}, granted {open.Pairs}, denied {open.Denied}, errors {open.Errors}, unfinished {open.Unfinished}, "
                    + $"grant p50/p99 {open.CheckoutP50Ms}/{open.CheckoutP99Ms} ms, denial p50/p99 {open.DeniedCheckoutP50Ms}/{open.DeniedCheckoutP99Ms} ms, "
                    + $"leader calls {leader} ({result.LeaderCallsPercent}%), writes {result.StorageWrites} ({result.StorageWritesPerCheckout}/checkout)"
                    + (open.FirstError is null ? "" : $" (first error: {open.FirstError})"));
            }
        }
    }

    private static readonly IReadOnlyDictionary<string, long> Empty = new Dictionary<string, long>();

    private static double Percent(long part, long whole) => whole > 0 ? Math.Round(100.0 * part / whole, 2) : double.NaN;

    private static Dictionary<string, long> Delta(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after) =>
        after.Select(a => (a.Key, Value: a.Value - before.GetValueOrDefault(a.Key))).Where(d => d.Value != 0).ToDictionary(d => d.Key, d => d.Value);

    /// <summary>Calls to IPoolGrain per method, summed over the three servers (each counts what it sent).</summary>
    private static async Task<IReadOnlyDictionary<string, long>> PoolCallsAsync(HttpServers servers)
    {
        var sum = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            var counters = await servers.AdminHttp.GetFromJsonAsync<Counters>(new Uri(servers.Url(i), "api/v1/diagnostics/counters"))
                ?? throw new InvalidOperationException($"server {i} answered no counters");
            foreach (var (method, calls) in counters.PoolCalls) sum[method] = sum.GetValueOrDefault(method) + calls;
        }

        return sum;
    }

    private sealed record Counters(string ServerId, Dictionary<string, long> PoolCalls);

    /// <summary>Writes so far of this pool's rows, by grain type ("pool", "server", ...): Σ version.</summary>
    private async Task<IReadOnlyDictionary<string, long>> WritesAsync(string serviceId)
    {
        await using var connection = new NpgsqlConnection(settings.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT split_part(grain_id, '/', 1), sum(version)::bigint FROM licensing_grain_state WHERE service_id = $1 GROUP BY 1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = serviceId });
        var writes = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) writes[reader.GetString(0)] = reader.GetInt64(1);
        return writes;
    }

    /// <summary>The markdown table and the target line, or nothing when the phase did not run.</summary>
    public string Report()
    {
        if (Results.Count == 0) return "";
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"Congestion: one hot code, {Seats} seats, hold {Hold.TotalMilliseconds} ms, open loop over HTTP (3 server processes); demand = offered/s × hold ÷ seats; latency from the intended start");
        s.AppendLine();
        s.AppendLine("| demand | offered/s | requests | granted | denied | errors | unfinished | grant p50 ms | grant p99 ms | denial p50 ms | denial p99 ms | leader calls (Borrow) | leader calls / request | all IPoolGrain calls | storage writes | writes / request | start lag p99 ms | CPU % machine | CPU % other |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in Results)
        {
            var o = r.OpenLoop;
            s.AppendLine(CultureInfo.InvariantCulture, $"| {r.Demand}× | {o.TargetPairsPerSecond:F1} | {o.Scheduled} | {o.Pairs} | {o.Denied} | {o.Errors} | {o.Unfinished} | {o.CheckoutP50Ms:F2} | {o.CheckoutP99Ms:F2} | {o.DeniedCheckoutP50Ms:F2} | {o.DeniedCheckoutP99Ms:F2} | {r.LeaderCalls} | {r.LeaderCallsPercent:F2}% | {r.PoolCallsByMethod.Values.Sum()} | {r.StorageWrites} ({string.Join(", ", r.StorageWritesByGrain.Select(w => $"{w.Key} {w.Value}"))}) | {r.StorageWritesPerCheckout:F2} | {o.StartLagP99Ms:F2} | {o.MachineCpuBusyPercent:F0} | {o.OtherCpuPercent:F0} |");
        }

        var reference = Results[0];
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"reference: grant p99 at {reference.Demand}× = {reference.OpenLoop.CheckoutP99Ms:F2} ms; targets: denial p99 ≤ {DenialP99Factor}× that = {DenialP99Factor * reference.OpenLoop.CheckoutP99Ms:F2} ms, leader calls ≤ {LeaderCallsTargetPercent}% of requests, no request unfinished");
        foreach (var r in Results.Skip(1))
        {
            var o = r.OpenLoop;
            string Met(bool ok) => ok ? "met" : "MISSED";
            s.AppendLine(CultureInfo.InvariantCulture, $"  {r.Demand}×: denial p99 {o.DeniedCheckoutP99Ms:F2} ms {Met(o.DeniedCheckoutP99Ms <= DenialP99Factor * reference.OpenLoop.CheckoutP99Ms)}, "
                + $"leader calls {r.LeaderCallsPercent:F2}% {Met(r.LeaderCallsPercent <= LeaderCallsTargetPercent)}, unfinished {o.Unfinished} {Met(o.Unfinished == 0)}");
        }

        return s.ToString().TrimEnd();
    }
}
