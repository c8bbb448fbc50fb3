using System.Diagnostics;

namespace Orleans.Licensing.Benchmarks.Compare;

internal sealed record Settings(bool Quick, int Seats, int Clients, int SpreadCodes, TimeSpan Warmup, TimeSpan Duration, TimeSpan Hold, int PostgresPool, string ConnectionString, string? Out, TimeSpan WarmupCap);

/// <summary>One contender on one workload: the measured window only (warm-up excluded).</summary>
internal sealed record Result(
    string Workload,
    string Contender,
    int Codes,
    int Seats,
    int Clients,
    double Seconds,
    long Pairs,
    double PairsPerSecond,
    double CheckoutP50Ms,
    double CheckoutP99Ms,
    double PairP50Ms,
    double PairP99Ms,
    long Checkouts,
    long Denied,
    long Errors,
    string? FirstError,
    long? LeaderCalls,
    double? LeaderCallsPerCheckout,
    long MinPairsPerClient,
    long MaxPairsPerClient,
    double PeakProcessRssMb,
    double PeakStorePssMb,
    double MachineCpuBusyPercent,
    double ProcessCpuPercent,
    double StoreCpuPercent,
    double OtherCpuPercent,
    double PostgresWalSyncsPerPair,
    long? WarmupCheckouts = null,
    long? WarmupLeaderCalls = null,
    double? WarmupSeconds = null);

internal static class Runner
{
    /// <summary>
    /// C clients, each in a loop: checkout → hold → check-in on its code (client i uses code i mod K). Counts pairs
    /// that complete within the measured window, after the warm-up.
    /// </summary>
    public static async Task<Result> MeasureAsync(Contender contender, string workload, IReadOnlyList<string> codes, Settings settings)
    {
        await contender.SetUpAsync(codes, settings.Seats);
        var clients = settings.Clients;
        var pairs = new long[clients];
        var checkoutLatency = Enumerable.Range(0, clients).Select(_ => new List<double>(1 << 14)).ToArray();
        var pairLatency = Enumerable.Range(0, clients).Select(_ => new List<double>(1 << 14)).ToArray();
        long checkouts = 0, denied = 0, errors = 0, warmupCheckouts = 0;
        Exception? firstError = null;
        var stop = false;
        var measuring = false;
        var warmingUp = true;

        GC.Collect();
        GC.WaitForPendingFinalizers();
        await using var memory = new MemorySampler(() => contender.StoreProcesses);

        async Task ClientAsync(int client)
        {
            var code = codes[client % codes.Count];
            while (!Volatile.Read(ref stop))
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var checkin = await contender.CheckoutAsync(client, code);
                    var granted = Stopwatch.GetTimestamp();
                    if (checkin is null)
                    {
                        if (Volatile.Read(ref measuring)) Interlocked.Increment(ref denied);
                        await Task.Yield();
                        continue;
                    }

                    if (Volatile.Read(ref measuring)) Interlocked.Increment(ref checkouts);
                    else if (Volatile.Read(ref warmingUp)) Interlocked.Increment(ref warmupCheckouts);
                    if (settings.Hold > TimeSpan.Zero) await Task.Delay(settings.Hold);
                    await checkin();
                    var done = Stopwatch.GetTimestamp();
                    if (Volatile.Read(ref measuring))
                    {
                        pairs[client]++;
                        checkoutLatency[client].Add(Stopwatch.GetElapsedTime(started, granted).TotalMilliseconds);
                        pairLatency[client].Add(Stopwatch.GetElapsedTime(started, done).TotalMilliseconds);
                    }
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, e, null);
                    await Task.Delay(10);
                }
            }
        }

        var leaderAtStart = await contender.LeaderCallsAsync();
        var tasks = Enumerable.Range(0, clients).Select(i => Task.Run(() => ClientAsync(i))).ToArray();
        var warmup = await WarmUpAsync(contender, settings);
        var leaderBefore = await contender.LeaderCallsAsync();
        Volatile.Write(ref measuring, true);
        Volatile.Write(ref warmingUp, false);
        var windowStarted = Stopwatch.GetTimestamp();
        var machineBefore = MachineCpu();
        var walSyncsBefore = await PostgresWalSyncsAsync(settings.ConnectionString);
        var processBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var storeBefore = ProcessJiffies(contender.StoreProcesses);
        await Task.Delay(settings.Duration);
        Volatile.Write(ref measuring, false);
        var seconds = Stopwatch.GetElapsedTime(windowStarted).TotalSeconds;
        var machineAfter = MachineCpu();
        var walSyncsAfter = await PostgresWalSyncsAsync(settings.ConnectionString);
        var processCpu = (Process.GetCurrentProcess().TotalProcessorTime - processBefore).TotalSeconds;
        var storeAfter = ProcessJiffies(contender.StoreProcesses);
        var storeJiffies = storeAfter.Sum(p => p.Value - storeBefore.GetValueOrDefault(p.Key));
        var leaderAfter = await contender.LeaderCallsAsync();
        Volatile.Write(ref stop, true);
        await Task.WhenAll(tasks);

        var checkoutTimes = checkoutLatency.SelectMany(l => l).Order().ToArray();
        var pairTimes = pairLatency.SelectMany(l => l).Order().ToArray();
        var total = pairs.Sum();
        long? leaderCalls = leaderAfter - leaderBefore;
        var machineBusy = 100.0 * (machineAfter.Busy - machineBefore.Busy) / Math.Max(1, machineAfter.Total - machineBefore.Total);
        var processPercent = 100.0 * processCpu / seconds / Environment.ProcessorCount;
        var storePercent = 100.0 * storeJiffies / JiffiesPerSecond / seconds / Environment.ProcessorCount;
        return new Result(
            workload, contender.Name, codes.Count, settings.Seats, clients, Math.Round(seconds, 2), total, Math.Round(total / seconds, 1),
            Percentile(checkoutTimes, 0.50), Percentile(checkoutTimes, 0.99), Percentile(pairTimes, 0.50), Percentile(pairTimes, 0.99),
            checkouts, denied, errors, firstError is null ? null : $"{firstError.GetType().Name}: {firstError.Message}",
            leaderCalls, leaderCalls is { } calls && checkouts > 0 ? (double)calls / checkouts : null,
            pairs.Min(), pairs.Max(), Math.Round(memory.PeakSelfRss / 1048576.0, 1), Math.Round(memory.PeakStorePss / 1048576.0, 1),
            Math.Round(machineBusy, 1), Math.Round(processPercent, 1), Math.Round(storePercent, 1),
            Math.Round(Math.Max(0, machineBusy - processPercent - storePercent), 1),
            total > 0 ? Math.Round((double)(walSyncsAfter - walSyncsBefore) / total, 2) : double.NaN,
            warmupCheckouts, leaderBefore - leaderAtStart, Math.Round(warmup.TotalSeconds, 1));
    }

    /// <summary>
    /// The warm-up: at least <see cref="Settings.Warmup"/>, then on until tiered compilation has settled in this process
    /// and in the contender's processes (their JIT threads used under 5 % of a core in the last second), at most
    /// <see cref="Settings.WarmupCap"/>. Server processes started for a contender otherwise spend a third of the machine
    /// re-compiling their hot paths for the first ~30 s under load (measured with perf), which measures start-up, not
    /// the contender.
    /// </summary>
    private static async Task<TimeSpan> WarmUpAsync(Contender contender, Settings settings)
    {
        var clock = Stopwatch.StartNew();
        await Task.Delay(settings.Warmup);
        int[] processes = [Environment.ProcessId, .. contender.StoreProcesses];
        var compiled = JitJiffies(processes);
        while (clock.Elapsed < settings.WarmupCap)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = JitJiffies(processes);
            if (now - compiled <= JiffiesPerSecond / 20) break;
            compiled = now;
        }

        return clock.Elapsed;
    }

    /// <summary>CPU jiffies of the tiered-compilation threads (".NET Tiered Compilation Worker") of the given processes.</summary>
    internal static long JitJiffies(IEnumerable<int> processes)
    {
        long jiffies = 0;
        foreach (var pid in processes)
        {
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                {
                    if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered Com", StringComparison.Ordinal)) continue;
                    jiffies += StatJiffies(File.ReadAllText(Path.Combine(task, "stat")));
                }
            }
            catch (IOException)
            {
                // The process or thread has ended.
            }
        }

        return jiffies;
    }

    /// <summary>utime + stime of a /proc stat line (fields 14 and 15; the name in parentheses may hold spaces).</summary>
    private static long StatJiffies(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// How often PostgreSQL has synced its WAL to disk so far (pg_stat_wal.wal_sync, the whole server): the durable
    /// cost. Concurrent commits share a sync, so syncs per pair show how much commits were grouped. PostgreSQL
    /// publishes a process' counts about once a second, so a window of seconds is accurate to about a second's worth.
    /// </summary>
    internal static async Task<long> PostgresWalSyncsAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT pg_stat_clear_snapshot(); SELECT wal_sync FROM pg_stat_wal", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return reader.GetInt64(0);
    }

    internal const double JiffiesPerSecond = 100; // USER_HZ on Linux

    /// <summary>CPU jiffies (user + system) of each process, from /proc/PID/stat.</summary>
    internal static Dictionary<int, long> ProcessJiffies(IEnumerable<int> processes)
    {
        var result = new Dictionary<int, long>();
        foreach (var pid in processes)
        {
            try
            {
                result[pid] = StatJiffies(File.ReadAllText($"/proc/{pid}/stat"));
            }
            catch (IOException)
            {
            }
        }

        return result;
    }

    /// <summary>Jiffies of all cores from /proc/stat: busy (everything but idle and iowait) and total.</summary>
    internal static (long Busy, long Total) MachineCpu()
    {
        if (!File.Exists("/proc/stat")) return (0, 0);
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Sum();
        return (total - fields[3] - fields[4], total);
    }

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * p))], 2);
}
