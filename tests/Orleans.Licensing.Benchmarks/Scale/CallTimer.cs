using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Orleans.Licensing.Benchmarks.Scale;

/// <summary>
/// Where the time of a grain call goes: counts and total time of incoming calls per interface method on the silos of
/// this process (a call's time includes the calls it makes and its wait in the grain's queue is not included).
/// </summary>
internal sealed class CallTimer : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, long[]> s_calls = new();

    public static void Reset() => s_calls.Clear();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await context.Invoke();
        }
        finally
        {
            var name = $"{context.InterfaceMethod?.DeclaringType?.Name}.{context.InterfaceMethod?.Name}";
            var entry = s_calls.GetOrAdd(name, _ => new long[2]);
            Interlocked.Increment(ref entry[0]);
            Interlocked.Add(ref entry[1], Stopwatch.GetTimestamp() - started);
        }
    }

    /// <summary>The licensing methods, most total time first: "IPoolGrain.AddLicenseCode 500 × 12.3 ms, …".</summary>
    public static string Report(int top = 8) => string.Join(", ", s_calls
        .Where(kv => kv.Key.Contains("Grain.", StringComparison.Ordinal) && (kv.Key.StartsWith("IPool", StringComparison.Ordinal) || kv.Key.StartsWith("IServer", StringComparison.Ordinal) || kv.Key.StartsWith("ICatalog", StringComparison.Ordinal)))
        .OrderByDescending(kv => kv.Value[1]).Take(top)
        .Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value[0]:N0} × {kv.Value[1] * 1000.0 / Stopwatch.Frequency / Math.Max(1, kv.Value[0]):F1} ms")));
}
