using System.Diagnostics;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>One contender at a fixed offered rate (open loop), the measured window only.</summary>
internal sealed record OpenLoopResult(
    string Workload,
    string Contender,
    int Codes,
    int Seats,
    int Clients,
    double PeakPairsPerSecond,
    double TargetPairsPerSecond,
    double Seconds,
    long Scheduled,
    long Pairs,
    double AchievedPairsPerSecond,
    double CheckoutP50Ms,
    double CheckoutP99Ms,
    double PairP50Ms,
    double PairP99Ms,
    double StartLagP50Ms,
    double StartLagP99Ms,
    long Denied,
    long Errors,
    string? FirstError,
    long Unfinished,
    long MaxOutstanding,
    double MachineCpuBusyPercent,
    double ProcessCpuPercent,
    double StoreCpuPercent,
    double OtherCpuPercent,
    double DeniedCheckoutP50Ms = double.NaN,
    double DeniedCheckoutP99Ms = double.NaN);

/// <summary>
/// Open loop: pairs (checkout → hold → check-in) started at a fixed rate by a clock, whatever the answers do, so that
/// a slow answer cannot delay the next request and hide its own latency (coordinated omission). Pair k is due at
/// t0 + k / rate and goes to client k mod C; its latencies are measured from that intended start, so any lag of the
/// scheduler or the thread pool counts against the contender rather than vanishing.
/// </summary>
internal static class OpenLoop
{
    /// <summary>How long to wait after the last scheduled start for the pairs still in flight.</summary>
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(15);

    private const byte Pending = 0, Paired = 1, Denied = 2, Failed = 3;

    public static async Task<OpenLoopResult> MeasureAsync(
        Contender contender, string workload, IReadOnlyList<string> codes, double peakPairsPerSecond, double fraction, Settings settings,
        Func<Task>? atWindowStart = null, Func<Task>? atWindowEnd = null)
    {
        var rate = peakPairsPerSecond * fraction;
        if (!(rate > 0)) throw new ArgumentOutOfRangeException(nameof(peakPairsPerSecond), "the closed-loop peak must be above 0 pairs/s");
        await contender.SetUpAsync(codes, settings.Seats);

        var clients = settings.Clients;
        var total = (long)Math.Ceiling(rate * (settings.Warmup + settings.Duration).TotalSeconds);
        var measuredFrom = (long)Math.Ceiling(rate * settings.Warmup.TotalSeconds);
        var checkoutMs = new double[total];
        var pairMs = new double[total];
        var lagMs = new double[total];
        var outcome = new byte[total];
        var tasks = new Task[total];
        long outstanding = 0, maxOutstanding = 0;
        Exception? firstError = null;

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var frequency = (double)Stopwatch.Frequency;
        var t0 = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
        long Intended(long k) => t0 + (long)(k / rate * frequency);
        static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

        async Task PairAsync(long k)
        {
            var intended = Intended(k);
            lagMs[k] = Ms(intended, Stopwatch.GetTimestamp());
            var client = (int)(k % clients);
            try
            {
                var checkin = await contender.CheckoutAsync(client, codes[client % codes.Count]);
                var granted = Stopwatch.GetTimestamp();
                if (checkin is null)
                {
                    checkoutMs[k] = Ms(intended, granted);
                    outcome[k] = Denied;
                    return;
                }

                if (settings.Hold > TimeSpan.Zero) await Task.Delay(settings.Hold);
                await checkin();
                var done = Stopwatch.GetTimestamp();
                checkoutMs[k] = Ms(intended, granted);
                pairMs[k] = Ms(intended, done);
                outcome[k] = Paired;
            }
            catch (Exception e)
            {
                outcome[k] = Failed;
                if (k >= measuredFrom) Interlocked.CompareExchange(ref firstError, e, null);
            }
            finally
            {
                Interlocked.Decrement(ref outstanding);
            }
        }

        // The clock: a thread of its own that starts every pair that is due, then sleeps about a millisecond.
        var scheduler = new Thread(() =>
        {
            for (long k = 0; k < total;)
            {
                var now = Stopwatch.GetTimestamp();
                while (k < total && Intended(k) <= now)
                {
                    var current = Interlocked.Increment(ref outstanding);
                    if (current > Volatile.Read(ref maxOutstanding)) Volatile.Write(ref maxOutstanding, current);
                    var index = k++;
                    tasks[index] = Task.Run(() => PairAsync(index));
                }

                if (k < total) Thread.Sleep(1);
            }
        })
        { IsBackground = true, Name = "open-loop clock" };
        await using var memory = new MemorySampler(() => contender.StoreProcesses);
        scheduler.Start();

        var windowStart = t0 + (long)(measuredFrom / rate * frequency);
        var windowEnd = Intended(total);
        await DelayUntilAsync(windowStart);
        if (atWindowStart is not null) await atWindowStart();
        var machineBefore = Runner.MachineCpu();
        var processBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var storeBefore = Runner.ProcessJiffies(contender.StoreProcesses);
        await DelayUntilAsync(windowEnd);
        var seconds = Ms(windowStart, Stopwatch.GetTimestamp()) / 1000;
        var machineAfter = Runner.MachineCpu();
        var processCpu = (Process.GetCurrentProcess().TotalProcessorTime - processBefore).TotalSeconds;
        var storeAfter = Runner.ProcessJiffies(contender.StoreProcesses);
        if (atWindowEnd is not null) await atWindowEnd();
        scheduler.Join();
        var all = Task.WhenAll(tasks);
        await Task.WhenAny(all, Task.Delay(Drain));

        var measured = Enumerable.Range((int)measuredFrom, (int)(total - measuredFrom)).ToArray();
        var paired = measured.Where(k => outcome[k] == Paired).ToArray();
        var window = (windowEnd - windowStart) / frequency;
        var storeJiffies = storeAfter.Sum(p => p.Value - storeBefore.GetValueOrDefault(p.Key));
        var machineBusy = 100.0 * (machineAfter.Busy - machineBefore.Busy) / Math.Max(1, machineAfter.Total - machineBefore.Total);
        var processPercent = 100.0 * processCpu / seconds / Environment.ProcessorCount;
        var storePercent = 100.0 * storeJiffies / Runner.JiffiesPerSecond / seconds / Environment.ProcessorCount;
        double P(IEnumerable<double> values, double p) => Runner.Percentile([.. values.Order()], p);
        return new OpenLoopResult(
            workload, contender.Name, codes.Count, settings.Seats, clients, Math.Round(peakPairsPerSecond, 1), Math.Round(rate, 1),
            Math.Round(window, 2), measured.Length, paired.Length, Math.Round(paired.Length / window, 1),
            P(paired.Select(k => checkoutMs[k]), 0.50), P(paired.Select(k => checkoutMs[k]), 0.99),
            P(paired.Select(k => pairMs[k]), 0.50), P(paired.Select(k => pairMs[k]), 0.99),
            P(measured.Select(k => lagMs[k]), 0.50), P(measured.Select(k => lagMs[k]), 0.99),
            measured.LongCount(k => outcome[k] == Denied), measured.LongCount(k => outcome[k] == Failed),
            firstError is null ? null : $"{firstError.GetType().Name}: {firstError.Message}",
            measured.LongCount(k => outcome[k] == Pending), Interlocked.Read(ref maxOutstanding),
            Math.Round(machineBusy, 1), Math.Round(processPercent, 1), Math.Round(storePercent, 1),
            Math.Round(Math.Max(0, machineBusy - processPercent - storePercent), 1),
            P(measured.Where(k => outcome[k] == Denied).Select(k => checkoutMs[k]), 0.50), P(measured.Where(k => outcome[k] == Denied).Select(k => checkoutMs[k]), 0.99));
    }

    private static async Task DelayUntilAsync(long timestamp)
    {
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (left > TimeSpan.Zero) await Task.Delay(left);
    }
}
