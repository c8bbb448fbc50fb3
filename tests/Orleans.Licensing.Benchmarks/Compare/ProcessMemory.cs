using System.Globalization;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>Reads resident memory from /proc (Linux): this process' RSS, and the proportional set size of others.</summary>
internal static class ProcessMemory
{
    /// <summary>Resident set of this process, in bytes.</summary>
    public static long SelfRss() => ReadKb("/proc/self/status", "VmRSS:") * 1024;

    /// <summary>
    /// Proportional set size (shared pages divided among their sharers) of the processes, summed, in bytes: memory a
    /// set of PostgreSQL backends really uses, without counting shared buffers once per backend.
    /// </summary>
    public static long Pss(IEnumerable<int> processes) => processes.Sum(p => ReadKb($"/proc/{p}/smaps_rollup", "Pss:") * 1024);

    public static IReadOnlyList<int> PostgresProcesses()
    {
        var list = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "postgres") list.Add(pid);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return list;
    }

    private static long ReadKb(string file, string field)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
                var parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return 0;
    }
}

/// <summary>
/// Samples memory while a contender runs and keeps the peaks: this process' RSS every 100 ms, the store processes' PSS
/// every second (reading smaps_rollup walks each process' page tables: every 100 ms it took ~6 % of the machine's CPU
/// in a profile, all of it charged to the contender being measured).
/// </summary>
internal sealed class MemorySampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public MemorySampler(Func<IReadOnlyList<int>> storeProcesses)
    {
        _loop = Task.Run(async () =>
        {
            var lastStoreSample = DateTime.MinValue;
            while (!_stop.IsCancellationRequested)
            {
                PeakSelfRss = Math.Max(PeakSelfRss, ProcessMemory.SelfRss());
                if (DateTime.UtcNow - lastStoreSample >= TimeSpan.FromSeconds(1))
                {
                    PeakStorePss = Math.Max(PeakStorePss, ProcessMemory.Pss(storeProcesses()));
                    lastStoreSample = DateTime.UtcNow;
                }

                try
                {
                    await Task.Delay(100, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    public long PeakSelfRss { get; private set; }

    public long PeakStorePss { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
