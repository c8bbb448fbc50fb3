namespace Orleans.Licensing.Usage;

/// <summary>Where the usage log is kept durably and read back (PostgreSQL table or the embedded SQLite file).</summary>
public interface IUsageStore
{
    /// <summary>False for <see cref="NoUsageStore"/>: nothing is queued.</summary>
    bool IsDurable { get; }

    Task WriteAsync(IReadOnlyList<UsageEvent> batch, CancellationToken cancellationToken);

    /// <summary>Deletes at most <paramref name="limit"/> of the oldest events before <paramref name="before"/>; the rows deleted.</summary>
    Task<int> PruneAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Events in time order (then in the order they were written), at most <see cref="UsageQuery.Limit"/>; with
    /// <see cref="UsageQuery.NewestFirst"/> the newest ones, newest first.
    /// </summary>
    Task<IReadOnlyList<UsageEvent>> QueryAsync(UsageQuery query, CancellationToken cancellationToken);
}

/// <param name="Kinds">Null or empty: every kind.</param>
public sealed record UsageQuery(string? Code, DateTimeOffset? Since, DateTimeOffset? Until, IReadOnlyList<string>? Kinds, int Limit, bool NewestFirst = false);

/// <summary>No durable log (test clusters, silos configured without a store): events only reach the metrics.</summary>
public sealed class NoUsageStore : IUsageStore
{
    public bool IsDurable => false;

    public Task WriteAsync(IReadOnlyList<UsageEvent> batch, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<int> PruneAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) => Task.FromResult(0);

    public Task<IReadOnlyList<UsageEvent>> QueryAsync(UsageQuery query, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<UsageEvent>>([]);
}
