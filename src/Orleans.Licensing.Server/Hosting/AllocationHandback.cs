namespace Orleans.Licensing.Server.Hosting;

/// <summary>
/// Graceful shutdown: after the web server has finished its in-flight requests and before the silo leaves the
/// cluster, this server hands its unused allocations of every license code back to the leaders. Registered after the
/// silo, so it stops before it (hosted services stop in reverse order; ASP.NET Core's server stops first of all).
/// </summary>
public sealed partial class AllocationHandback(IGrainFactory grains, ServerSettings settings, ILogger<AllocationHandback> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            var codes = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes().WaitAsync(cancellationToken);
            var given = await Task.WhenAll(codes.Select(code => ReleaseAsync(code, cancellationToken)));
            LogHandedBack(settings.ServerId, given.Sum(), codes.Count);
        }
        catch (Exception e)
        {
            // Not fatal: the leaders see the server leave and its unused allocations become a source anyway.
            LogFailed(e, settings.ServerId);
        }
    }

    private async Task<int> ReleaseAsync(string code, CancellationToken cancellationToken)
    {
        try
        {
            return await grains.GetGrain<IPoolGrain>(code).Release(settings.ServerId).WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(e, $"{settings.ServerId}/{code}");
            return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{ServerId} is stopping: handed {Given} unused allocations of {Codes} license codes back")]
    private partial void LogHandedBack(string serverId, int given, int codes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What}: handing allocations back failed")]
    private partial void LogFailed(Exception e, string what);
}
