using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// `compare [--quick]`: this pool against what a team would pick instead, in one run, on this machine, with the same
/// durability promise (an acknowledged checkout survives a crash). See docs/benchmarks.md.
/// </summary>
internal static class CompareCommand
{
    private static readonly string[] NotMeasured =
    [
        "BenchmarkDotNet micro-benchmarks: not part of compare (run the `micro` command)",
    ];

    /// <summary>Added to the warm-up of each contender's first workload (then it goes on while tiered compilation is busy).</summary>
    private static readonly TimeSpan FirstWarmup = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = Parse(args);
        var runId = Guid.NewGuid().ToString("N")[..8];
        Console.WriteLine($"compare ({(settings.Quick ? "quick" : "full")}): seats S={settings.Seats}, concurrent clients C={settings.Clients}, hold {settings.Hold.TotalMilliseconds} ms, "
            + $"warm-up {settings.Warmup.TotalSeconds} s ({(settings.Warmup + FirstWarmup).TotalSeconds} s for a contender's first workload), longer while tiered compilation is busy (at most {settings.WarmupCap.TotalSeconds} s), then {settings.Duration.TotalSeconds} s measured per contender and workload; "
            + $"workloads: hot (1 code) and spread ({settings.SpreadCodes} codes, client i on code i mod {settings.SpreadCodes}, S seats each)");

        await Postgres.EnsureReadyAsync(settings.ConnectionString);
        var machine = await DescribeMachineAsync(settings.ConnectionString);
        foreach (var (key, value) in machine) Console.WriteLine($"{key}: {value}");

        var workloads = new (string Name, Func<string, IReadOnlyList<string>> Codes)[]
        {
            ("hot", prefix => [$"{prefix}-hot"]),
            ("spread", prefix => [.. Enumerable.Range(0, settings.SpreadCodes).Select(i => $"{prefix}-{i:D2}")]),
        };
        var results = new List<Result>();
        var contenders = new Dictionary<string, string>();
        var missing = new List<string>(NotMeasured);
        var targets = new TargetChecks(settings, args, runId, missing);

        async Task RunContenderAsync(Contender contender, bool hotOnly = false)
        {
            contenders[contender.Name] = contender.Description;
            Console.WriteLine($"-- {contender.Name}: {contender.Description}");
            var first = true;
            foreach (var (name, codes) in workloads.Where(w => !hotOnly || w.Name == "hot"))
            {
                // The first workload of a contender also warms up its code: tiered compilation with PGO runs the hot
                // path instrumented for seconds, and a short warm-up measured that, not the contender (the same build
                // gave 6.5k pairs/s as the first workload and 11k as a later one).
                var warmed = first ? settings with { Warmup = settings.Warmup + FirstWarmup } : settings;
                first = false;
                Result result;
                try
                {
                    result = await Runner.MeasureAsync(contender, name, codes($"b{runId}-{contender.Name}-{name}"), warmed);
                }
                catch (Exception e)
                {
                    Console.WriteLine($"   {name}: FAILED: {e.GetType().Name}: {e.Message}");
                    missing.Add($"{contender.Name} on the {name} workload: failed: {e.GetType().Name}: {Short(e.Message)}");
                    continue;
                }

                results.Add(result);
                Console.WriteLine($"   {name}: {result.PairsPerSecond:F1} pairs/s, checkout p50 {result.CheckoutP50Ms} ms p99 {result.CheckoutP99Ms} ms, warm-up {result.WarmupSeconds} s, "
                    + $"denied {result.Denied}, errors {result.Errors}{(result.FirstError is null ? "" : $" (first: {result.FirstError})")}");
            }
        }

        var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault()?.Split(',');
        async Task GuardAsync(string what, Func<Task> run)
        {
            if (only is not null && !only.Any(o => what.StartsWith(o, StringComparison.Ordinal)))
            {
                missing.Add($"{what}: left out (--only)");
                return;
            }

            try
            {
                await run();
            }
            catch (Exception e)
            {
                Console.WriteLine($"-- {what}: FAILED: {e.GetType().Name}: {e.Message}");
                missing.Add($"{what}: failed: {e.GetType().Name}: {Short(e.Message)}");
            }
        }

        await GuardAsync("postgres-counter", async () =>
        {
            await using var counter = new PostgresCounter(settings.ConnectionString, settings.PostgresPool);
            await RunContenderAsync(counter);
        });

        await GuardAsync("redis-semaphore", async () =>
        {
            var (redis, redisMissing) = await RedisServer.StartAsync();
            if (redis is null)
            {
                missing.Add($"redis-semaphore: {redisMissing}");
                return;
            }

            await using (redis)
            await using (var semaphore = new RedisSemaphore(redis))
            {
                await RunContenderAsync(semaphore);
            }
        });

        await GuardAsync("ours and single-grain (3-silo cluster)", async () =>
        {
            await using var cluster = await Cluster.StartAsync(settings.ConnectionString, 3);
            Console.WriteLine($"-- cluster {cluster.ClusterId}: 3 silos active");
            await RunContenderAsync(new OursGrains(cluster));
            await targets.HalfLoadAsync(new OursGrains(cluster), results);
            await targets.SkewedAsync(cluster, results);
            await RunContenderAsync(new SingleGrain(cluster));
        });

        // HTTP rows: the defaults (both workloads, half load), then one row per knob on the hot code, each on fresh
        // server processes (--http-rows picks them, --http-env adds settings to every row).
        foreach (var row in HttpRows.Parse(args))
        {
            await GuardAsync($"{row.Name} (3 server processes)", async () =>
            {
                var (servers, serversMissing) = await HttpServers.StartAsync(settings.ConnectionString, 3, row.Environment, row.Name, row.Variant, row.ViaProxy);
                if (servers is null)
                {
                    missing.Add($"{row.Name}: {serversMissing}");
                    return;
                }

                await using (servers)
                {
                    await RunContenderAsync(servers, hotOnly: row.Name != HttpRows.Default);
                    if (row.Name == HttpRows.Default) await targets.HalfLoadAsync(servers, results);
                }
            });
        }

        var congestion = new Congestion(settings, args, runId);
        await GuardAsync("congestion (3 server processes)", congestion.RunAsync);

        Console.WriteLine();
        if (results.Count > 0) Console.WriteLine(Table(results));
        if (congestion.Report() is { Length: > 0 } congested) Console.WriteLine($"{Environment.NewLine}{congested}{Environment.NewLine}");
        if (targets.Report() is { Length: > 0 } report) Console.WriteLine($"{Environment.NewLine}{report}{Environment.NewLine}");
        foreach (var m in missing) Console.WriteLine($"not measured: {m}");

        var hot = results.Where(r => r.Workload == "hot").ToDictionary(r => r.Contender);
        string Ratio(string baseline, string mine = "ours", string workload = "hot")
        {
            var rows = results.Where(r => r.Workload == workload).ToDictionary(r => r.Contender);
            return rows.TryGetValue(mine, out var ours) && rows.TryGetValue(baseline, out var other) && other.PairsPerSecond > 0
                ? (ours.PairsPerSecond / other.PairsPerSecond).ToString("F2", CultureInfo.InvariantCulture)
                : "n/a";
        }

        // Per-client fairness beside each ratio: min–max pairs per client of the two rows compared.
        string Fair(string mine, string baseline, string workload = "hot")
        {
            string One(string name) => results.FirstOrDefault(r => r.Workload == workload && r.Contender == name) is { } r ? $"{r.MinPairsPerClient}–{r.MaxPairsPerClient}" : "n/a";
            return $"({One(mine)} vs {One(baseline)})";
        }
        // Leader calls at steady state: the measured window of the skewed workload (the hot one never borrows).
        var leaderCalls = targets.LeaderCallsPercent;
        var ratios = new Dictionary<string, string>
        {
            ["postgres-counter"] = Ratio("postgres-counter"),
            ["redis-semaphore"] = Ratio("redis-semaphore"),
            ["single-grain"] = Ratio("single-grain"),
            ["leader-calls-percent"] = leaderCalls,
            ["leader-calls-workload"] = "skewed, measured window",
            ["http-postgres-counter"] = Ratio("postgres-counter", HttpRows.Default),
            ["http-redis-semaphore"] = Ratio("redis-semaphore", HttpRows.Default),
            ["http-spread-postgres-counter"] = Ratio("postgres-counter", HttpRows.Default, "spread"),
            ["proxy-vs-direct"] = Ratio(HttpRows.Default, HttpRows.Proxy),
            ["usage-log-on-vs-off"] = Ratio(HttpRows.LogOff, HttpRows.Default),
            ["rate-limit-on-vs-off"] = Ratio(HttpRows.RateLimitOff, HttpRows.Default),
            ["proxy-leader-calls-percent-of-requests"] = hot.TryGetValue(HttpRows.Proxy, out var proxied) && proxied.LeaderCalls is { } calls && proxied.Checkouts > 0
                ? (100.0 * calls / (2.0 * proxied.Checkouts)).ToString("F2", CultureInfo.InvariantCulture) : "n/a",
        };
        foreach (var workload in workloads.Select(w => w.Name))
        {
            var byName = results.Where(r => r.Workload == workload).ToDictionary(r => r.Contender);
            foreach (var mine in new[] { "ours", HttpRows.Default })
            {
                if (!byName.TryGetValue(mine, out var ours)) continue;
                if (byName.Count == 1) continue;
                Console.WriteLine($"{workload}: {mine} pairs/s ÷ baseline pairs/s: " + string.Join(", ", byName.Values.Where(r => !r.Contender.StartsWith("ours", StringComparison.Ordinal))
                    .Select(r => $"{r.Contender} {(r.PairsPerSecond > 0 ? (ours.PairsPerSecond / r.PairsPerSecond).ToString("F2", CultureInfo.InvariantCulture) : "n/a")}×")));
            }
        }

        var path = settings.Out ?? Path.Combine("benchmark-results", $"compare-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(
            new { mode = settings.Quick ? "quick" : "full", when = DateTimeOffset.UtcNow, machine, parameters = new
            {
                seats = settings.Seats, clients = settings.Clients, spreadCodes = settings.SpreadCodes, warmupSeconds = settings.Warmup.TotalSeconds,
                measuredSeconds = settings.Duration.TotalSeconds, holdMs = settings.Hold.TotalMilliseconds, postgresCounterPool = settings.PostgresPool,
            }, contenders, results, openLoopAtHalfPeak = targets.OpenLoopResults, skewed = targets.Skewed, congestion = congestion.Results,
                ratiosOnHotCode = ratios, notMeasured = missing },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Console.WriteLine($"json: {Path.GetFullPath(path)}");
        Console.WriteLine($"ratios: postgres-counter={ratios["postgres-counter"]} redis-semaphore={ratios["redis-semaphore"]} single-grain={ratios["single-grain"]} leader-calls={leaderCalls}% "
            + $"http-postgres-counter={ratios["http-postgres-counter"]}{Fair(HttpRows.Default, "postgres-counter")} http-redis-semaphore={ratios["http-redis-semaphore"]}{Fair(HttpRows.Default, "redis-semaphore")} "
            + $"http-spread-postgres-counter={ratios["http-spread-postgres-counter"]}{Fair(HttpRows.Default, "postgres-counter", "spread")} proxy-vs-direct={ratios["proxy-vs-direct"]}{Fair(HttpRows.Proxy, HttpRows.Default)} "
            + $"usage-log-on-vs-off={ratios["usage-log-on-vs-off"]}{Fair(HttpRows.Default, HttpRows.LogOff)} rate-limit-on-vs-off={ratios["rate-limit-on-vs-off"]}{Fair(HttpRows.Default, HttpRows.RateLimitOff)} "
            + $"proxy-leader-calls={ratios["proxy-leader-calls-percent-of-requests"]}% of requests");
        return 0;
    }

    /// <summary>A failure's message on one line, cut to 300 characters (the full text is printed where it happened).</summary>
    private static string Short(string message)
    {
        var line = message.ReplaceLineEndings(" | ");
        return line.Length <= 300 ? line : line[..300] + " …";
    }

    private static string Table(IEnumerable<Result> results)
    {
        var s = new StringBuilder();
        s.AppendLine("| workload | contender | pairs/s | checkout p50 ms | checkout p99 ms | pair p50 ms | pair p99 ms | leader calls / checkout | pairs per client min–max | denied | errors | peak RSS this process MB | peak store PSS MB | CPU % machine | CPU % this process | CPU % store | CPU % other processes | PostgreSQL WAL syncs / pair |");
        s.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var leader = r.LeaderCallsPerCheckout is { } l ? $"{r.LeaderCalls} / {r.Checkouts} = {l * 100:F2}%"
                : "no leader";
            s.AppendLine(CultureInfo.InvariantCulture, $"| {r.Workload} ({r.Codes} code{(r.Codes == 1 ? "" : "s")}) | {r.Contender} | {r.PairsPerSecond:F1} | {r.CheckoutP50Ms:F2} | {r.CheckoutP99Ms:F2} | {r.PairP50Ms:F2} | {r.PairP99Ms:F2} | {leader} | {r.MinPairsPerClient}–{r.MaxPairsPerClient} | {r.Denied} | {r.Errors} | {r.PeakProcessRssMb:F0} | {r.PeakStorePssMb:F0} | {r.MachineCpuBusyPercent:F0} | {r.ProcessCpuPercent:F0} | {r.StoreCpuPercent:F0} | {r.OtherCpuPercent:F0} | {r.PostgresWalSyncsPerPair:F2} |");
        }

        return s.ToString().TrimEnd();
    }

    internal static async Task<Dictionary<string, string>> DescribeMachineAsync(string connectionString)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = File.Exists("/proc/meminfo")
            ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version(), current_setting('synchronous_commit'), current_setting('fsync'), current_setting('max_connections')", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new Dictionary<string, string>
        {
            ["machine"] = $"{Environment.ProcessorCount} cores ({cpu ?? "unknown CPU"}), {memory ?? "unknown"} memory, {RuntimeInformation.OSDescription}",
            [".NET"] = $"{RuntimeInformation.FrameworkDescription}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC",
            ["Orleans"] = typeof(IGrain).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0].Split(". Commit")[0] ?? "?",
            ["PostgreSQL"] = $"{reader.GetString(0).Split(" on ")[0]} on loopback, synchronous_commit={reader.GetString(1)}, fsync={reader.GetString(2)}, max_connections={reader.GetString(3)}",
            ["load average at start"] = File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1, 5, 15 min; above 0.5 means something else was running)" : "unknown",
            ["processes"] = "clients, the 3 silos of ours and single-grain, and the contenders' client libraries share this one process; PostgreSQL and redis-server run beside it on the same cores",
        };
    }

    private static Settings Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new Settings(
            quick,
            Int("--seats", 200),
            Int("--clients", 64),
            Int("--codes", 16),
            TimeSpan.FromSeconds(Int("--warmup", quick ? 2 : 5)),
            TimeSpan.FromSeconds(Int("--seconds", quick ? 8 : 30)),
            TimeSpan.FromMilliseconds(Int("--hold-ms", 0)),
            Int("--pg-pool", Int("--clients", 64)),
            Value("--connection") ?? Postgres.DefaultConnectionString(),
            Value("--out"),
            TimeSpan.FromSeconds(Int("--warmup-cap", quick ? 40 : 90)));
    }
}
