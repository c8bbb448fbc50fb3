using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Usage;

namespace Orleans.Licensing.Tests.Admin;

/// <summary>
/// Three license servers with long leases whose usage log is kept in memory (<see cref="Store"/>, one for every silo
/// of the cluster): the audit rows an admin change or a release writes are read back from it.
/// </summary>
public sealed class AuditFixture() : ClusterFixture(LongLeases, silo => silo.Services.AddSingleton<IUsageStore>(Store))
{
    public static readonly MemoryUsageStore Store = new();
}

[CollectionDefinition(Name)]
public sealed class AuditCollection : ICollectionFixture<AuditFixture>
{
    public const string Name = "audit";
}

/// <summary>A durable usage store in memory: what the usage log writer wrote, in order.</summary>
public sealed class MemoryUsageStore : IUsageStore
{
    private readonly Lock _lock = new();
    private readonly List<UsageEvent> _events = [];

    public bool IsDurable => true;

    public IReadOnlyList<UsageEvent> Of(string code)
    {
        lock (_lock) return [.. _events.Where(e => e.Code == code)];
    }

    public Task WriteAsync(IReadOnlyList<UsageEvent> batch, CancellationToken cancellationToken)
    {
        lock (_lock) _events.AddRange(batch);
        return Task.CompletedTask;
    }

    public Task<int> PruneAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) => Task.FromResult(0);

    public Task<IReadOnlyList<UsageEvent>> QueryAsync(UsageQuery query, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<UsageEvent>>(query.Code is { } code ? Of(code) : []);

    /// <summary>Waits until the log holds an event of <paramref name="code"/> that <paramref name="match"/> accepts (the writer batches).</summary>
    public async Task<UsageEvent> AwaitAsync(string code, Func<UsageEvent, bool> match, string what)
    {
        UsageEvent? found = null;
        await WaitAsync.UntilAsync(() => Task.FromResult((found = Of(code).FirstOrDefault(match)) is not null), what,
            describe: () => string.Join("; ", Of(code).Select(e => $"{e.Kind} {e.LeaseId} actor={e.Actor} user={e.OwnerUser}")));
        return found!;
    }
}
