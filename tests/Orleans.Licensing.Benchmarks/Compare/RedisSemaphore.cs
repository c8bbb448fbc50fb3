using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// DistributedLock.Redis' <see cref="RedisDistributedSemaphore"/> (one semaphore of S tickets per code) on a local
/// redis-server that this program starts with appendonly yes + appendfsync always: Redis fsyncs the AOF before it
/// answers, so an acknowledged acquire survives a crash, as the other contenders' checkouts do. A checkout is
/// TryAcquire with no wait (denied when no ticket is free); a check-in releases the ticket.
/// </summary>
internal sealed class RedisSemaphore(RedisServer server) : Contender
{
    private readonly ConnectionMultiplexer _redis = ConnectionMultiplexer.Connect($"127.0.0.1:{server.Port}");
    private readonly Dictionary<string, RedisDistributedSemaphore> _semaphores = [];

    public override string Name => "redis-semaphore";

    public override string Description =>
        $"DistributedLock.Redis {Version(typeof(RedisDistributedSemaphore))} RedisDistributedSemaphore over StackExchange.Redis {Version(typeof(ConnectionMultiplexer))} (one multiplexer); {server.Description}";

    /// <summary>The package version (assembly versions of these packages stay at x.0.0.0).</summary>
    private static string Version(Type type) =>
        System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(type.Assembly)?.InformationalVersion.Split('+')[0]
        ?? type.Assembly.GetName().Version?.ToString() ?? "?";

    public override IReadOnlyList<int> StoreProcesses => [server.ProcessId];

    public override Task SetUpAsync(IReadOnlyList<string> codes, int seats)
    {
        foreach (var code in codes) _semaphores[code] = new RedisDistributedSemaphore($"bench:{code}", seats, _redis.GetDatabase());
        return Task.CompletedTask;
    }

    public override async Task<Func<Task>?> CheckoutAsync(int client, string code)
    {
        var handle = await _semaphores[code].TryAcquireAsync(TimeSpan.Zero);
        if (handle is null) return null;
        return () => handle.DisposeAsync().AsTask();
    }

    public override async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
