using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Orleans.Licensing.Benchmarks.Scale;

/// <summary>One measured number of the scale command, or why it was not measured (then <see cref="Value"/> is null).</summary>
internal sealed record Measure(string Part, string Name, double? Value, string Unit, string? Detail = null)
{
    public static Measure Missing(string part, string name, string unit, string why) => new(part, name, null, unit, "not measured: " + why);

    public string Shown => Value is { } v
        ? (Math.Abs(v) >= 100 || v == Math.Floor(v) ? v.ToString("#,0", CultureInfo.InvariantCulture) : v.ToString("#,0.###", CultureInfo.InvariantCulture))
        : "not measured";
}

/// <summary>Sizes, budgets and where to connect. Every budget is a time cap: a part that hits it reports what it reached.</summary>
internal sealed record ScaleSettings(
    bool Quick,
    int Codes,
    int CodeSilos,
    int CodeInFlight,
    int SeatsPerServer,
    int Leases,
    int LeaseInFlight,
    int Pairs,
    int FailoverLeases,
    int FailoverInFlight,
    bool FastMembership,
    TimeSpan AddBudget,
    TimeSpan CheckoutBudget,
    TimeSpan FillBudget,
    TimeSpan PairsBudget,
    TimeSpan RecoveryBudget,
    string ConnectionString,
    string? Out,
    string[]? Only)
{
    public static ScaleSettings Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        TimeSpan Seconds(string name, int fallback) => TimeSpan.FromSeconds(Int(name, fallback));
        return new ScaleSettings(
            quick,
            Int("--codes", quick ? 10_000 : 100_000),
            Int("--code-silos", 3),
            Int("--code-in-flight", 32),
            Int("--seats-per-server", 10),
            Int("--leases", quick ? 100_000 : 1_000_000),
            Int("--lease-in-flight", 256),
            Int("--pairs", 1_000),
            Int("--failover-leases", quick ? 1_000 : 10_000),
            Int("--failover-in-flight", 64),
            args.Contains("--fast-membership"),
            Seconds("--add-seconds", quick ? 60 : 300),
            Seconds("--checkout-seconds", quick ? 30 : 120),
            Seconds("--fill-seconds", quick ? 90 : 480),
            Seconds("--pairs-seconds", quick ? 15 : 120),
            Seconds("--recovery-seconds", quick ? 120 : 300),
            Value("--connection") ?? Postgres.DefaultConnectionString(),
            Value("--out"),
            Value("--only")?.Split(','));
    }
}

/// <summary>What one driven phase did: successes, denials, errors, time, and when each tenth of the target was reached.</summary>
internal sealed class PhaseResult
{
    public int Target { get; init; }
    public int Completed;
    public int Denied;
    public int Errors;
    public string? FirstError;
    public double Seconds { get; set; }
    public bool OutOfTime { get; set; }

    /// <summary>Completed count and elapsed seconds at each 10 % of the target.</summary>
    public List<(int Count, double Seconds)> Steps { get; } = [];

    public double[] LatenciesMs { get; set; } = [];

    public double Rate => Seconds > 0 ? Completed / Seconds : double.NaN;

    /// <summary>Rate within each 10 % step, e.g. "0–10%: 812/s, 10–20%: 790/s, …".</summary>
    public string StepRates()
    {
        var parts = new List<string>();
        var (count, seconds) = (0, 0.0);
        foreach (var (c, s) in Steps)
        {
            var pct = Target > 0 ? (int)Math.Round(100.0 * c / Target) : 0;
            var previous = Target > 0 ? (int)Math.Round(100.0 * count / Target) : 0;
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{previous}–{pct}%: {(c - count) / Math.Max(1e-9, s - seconds):F0}/s"));
            (count, seconds) = (c, s);
        }

        return string.Join(", ", parts);
    }

    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0) return double.NaN;
        return Math.Round(LatenciesMs[Math.Min(LatenciesMs.Length - 1, (int)(LatenciesMs.Length * p))], 2);
    }

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{Completed:N0} of {Target:N0} in {Seconds:F1} s ({Rate:F1}/s), denied {Denied}, errors {Errors}{(OutOfTime ? ", stopped at its time budget" : "")}{(FirstError is null ? "" : $", first error: {FirstError}")}");
}

internal static class Driver
{
    /// <summary>
    /// Runs <paramref name="operation"/> for indexes 0..target-1 with <paramref name="inFlight"/> callers until all are
    /// done or the budget is spent. The operation returns false for a denial; an exception counts as an error.
    /// </summary>
    public static async Task<PhaseResult> RunAsync(int target, int inFlight, TimeSpan budget, Func<int, Task<bool>> operation, string? progressLabel = null)
    {
        var result = new PhaseResult { Target = target };
        var latencies = new double[target];
        Array.Fill(latencies, double.NaN);
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(budget.TotalSeconds * Stopwatch.Frequency);

        async Task WorkerAsync()
        {
            while (true)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    result.OutOfTime = true;
                    return;
                }

                var i = Interlocked.Increment(ref next);
                if (i >= target) return;
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    if (await operation(i))
                    {
                        latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                        var done = Interlocked.Increment(ref result.Completed);
                        // At each tenth of the target (done = target * k / 10, k = 1..10).
                        var k = (int)((long)done * 10 / target);
                        if (k >= 1 && done == (int)((long)target * k / 10))
                        {
                            var at = Stopwatch.GetElapsedTime(started).TotalSeconds;
                            lock (result.Steps) result.Steps.Add((done, at));
                            if (progressLabel is not null) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   {progressLabel}: {done:N0} / {target:N0} after {at:F1} s"));
                        }
                    }
                    else
                    {
                        Interlocked.Increment(ref result.Denied);
                    }
                }
                catch (Exception e)
                {
                    if (Interlocked.Increment(ref result.Errors) == 1) result.FirstError = $"{e.GetType().Name}: {Short(e.Message)}";
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, inFlight)).Select(_ => Task.Run(WorkerAsync)));
        result.Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        lock (result.Steps) result.Steps.Sort((a, b) => a.Count.CompareTo(b.Count));
        result.LatenciesMs = [.. latencies.Where(l => !double.IsNaN(l)).Order()];
        return result;
    }

    public static string Short(string message)
    {
        var line = message.ReplaceLineEndings(" | ");
        return line.Length <= 240 ? line : line[..240] + " …";
    }
}

/// <summary>Rows and payload bytes of the grain storage table for one ServiceId (one cluster of this run).</summary>
internal sealed record StorageUse(long Rows, long PayloadBytes, long TableBytes, IReadOnlyDictionary<string, (long Rows, long Bytes)> ByState)
{
    public static async Task<StorageUse> QueryAsync(string connectionString, string serviceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var byState = new Dictionary<string, (long, long)>();
        await using (var command = new NpgsqlCommand(
                         "SELECT regexp_replace(state_name, '-[0-9]+$', '-N'), count(*), coalesce(sum(length(payload)), 0)::bigint FROM licensing_grain_state WHERE service_id = $1 GROUP BY 1 ORDER BY 1",
                         connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = serviceId });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) byState[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        }

        await using var size = new NpgsqlCommand("SELECT pg_total_relation_size('licensing_grain_state')", connection);
        var table = (long)(await size.ExecuteScalarAsync())!;
        return new StorageUse(byState.Values.Sum(v => v.Item1), byState.Values.Sum(v => v.Item2), table, byState);
    }

    public string Detail() => string.Join(", ", ByState.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}: {kv.Value.Rows:N0} rows {kv.Value.Bytes / 1048576.0:F1} MB")));
}
