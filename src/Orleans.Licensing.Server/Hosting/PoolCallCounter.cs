using System.Collections.Concurrent;

namespace Orleans.Licensing.Server.Hosting;

/// <summary>
/// Counts the calls this license server makes to the leader (<see cref="IPoolGrain"/>), per method, for the congestion
/// benchmark: with three server processes the leader's own silo cannot see who called, but each caller can. Registered
/// only when <see cref="ServerSettings.DiagnosticsEndpoint"/> is on, so a production server pays nothing.
/// </summary>
public sealed class PoolCallCounter : IOutgoingGrainCallFilter
{
    private readonly ConcurrentDictionary<string, long> _calls = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, long> Snapshot() => new SortedDictionary<string, long>(_calls, StringComparer.Ordinal);

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IPoolGrain)) _calls.AddOrUpdate(context.InterfaceMethod.Name, 1, static (_, n) => n + 1);
        return context.Invoke();
    }
}
