namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// One way to hand out "N concurrent seats across servers". Every contender gives the same promise: a checkout is
/// acknowledged only after it is durable (it survives a crash of every process), and it is never granted past the
/// seats of its code.
/// </summary>
internal abstract class Contender : IAsyncDisposable
{
    public abstract string Name { get; }

    /// <summary>How it is set up, in one line (for the report).</summary>
    public abstract string Description { get; }

    /// <summary>Creates the codes, each with <paramref name="seats"/> seats, all free.</summary>
    public abstract Task SetUpAsync(IReadOnlyList<string> codes, int seats);

    /// <summary>A checkout by client <paramref name="client"/>; returns its check-in, or null when it was denied.</summary>
    public abstract Task<Func<Task>?> CheckoutAsync(int client, string code);

    /// <summary>Calls to the leader (PoolGrain.Borrow) so far; null for contenders without a leader.</summary>
    public virtual long? LeaderCalls => null;

    /// <summary><see cref="LeaderCalls"/>, for contenders that must ask other processes.</summary>
    public virtual Task<long?> LeaderCallsAsync() => Task.FromResult(LeaderCalls);

    /// <summary>Processes outside this one that do the contender's durable work (their memory is sampled).</summary>
    public virtual IReadOnlyList<int> StoreProcesses => [];

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
