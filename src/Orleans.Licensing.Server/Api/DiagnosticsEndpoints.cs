using Orleans.Licensing.Server.Hosting;

namespace Orleans.Licensing.Server.Api;

/// <summary>Read-only counters for benchmarks (<see cref="ServerSettings.DiagnosticsEndpoint"/>), loopback callers only.</summary>
public static class DiagnosticsEndpoints
{
    public static RouteHandlerBuilder MapDiagnostics(this RouteGroupBuilder api) =>
        api.MapGet("/diagnostics/counters", (HttpContext context, PoolCallCounter counter, ServerSettings settings) =>
                context.Connection.RemoteIpAddress is { } remote && System.Net.IPAddress.IsLoopback(remote)
                    ? Results.Ok(new DiagnosticsResponse(settings.ServerId, counter.Snapshot()))
                    : Results.NotFound())
            .ExcludeFromDescription();
}

/// <param name="PoolCalls">Calls this server made to the leader (IPoolGrain), per method, since it started.</param>
public sealed record DiagnosticsResponse(string ServerId, IReadOnlyDictionary<string, long> PoolCalls);
