using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// The silo's real grain storage (SQLite or PostgreSQL), with a switch that makes every write fail the way a store
/// that went away fails: with the store's own exception, before anything is written.
/// </summary>
public sealed class FailingStorage(IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private volatile bool _failWrites;

    public bool FailWrites
    {
        get => _failWrites;
        set => _failWrites = value;
    }

    public int FailedWrites;

    /// <summary>Forgets the delay and the started signal of an earlier test.</summary>
    public void Reset()
    {
        FailDelay = TimeSpan.Zero;
        FailWritesOf = null;
        FailingWriteStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>When set, only the writes it picks fail (by state name and grain), whatever <see cref="FailWrites"/> says.</summary>
    public Func<string, GrainId, bool>? FailWritesOf { get; set; }

    /// <summary>How long a failing write takes before it fails (a store that hangs, then drops the connection).</summary>
    public TimeSpan FailDelay { get; set; }

    /// <summary>Completes when a failing write has started (and waits out <see cref="FailDelay"/>).</summary>
    public TaskCompletionSource FailingWriteStarted { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set, the reads it picks fail the way a store that went away fails.</summary>
    public Func<string, GrainId, bool>? FailReadsOf { get; set; }

    /// <summary>Wraps the storage named <see cref="LicensingOptions.StorageName"/> that is registered already.</summary>
    public static void Decorate(ISiloBuilder silo)
    {
        var registered = silo.Services.Last(d => d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, LicensingOptions.StorageName));
        silo.Services.Remove(registered);
        silo.Services.AddKeyedSingleton(LicensingOptions.StorageName, (sp, key) => new FailingStorage(
            registered.KeyedImplementationFactory is { } factory ? (IGrainStorage)factory(sp, key) : (IGrainStorage)registered.KeyedImplementationInstance!));
        silo.Services.AddKeyedSingleton<IGrainStorage>(LicensingOptions.StorageName, (sp, key) => sp.GetRequiredKeyedService<FailingStorage>(key));
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        FailReadsOf?.Invoke(stateName, grainId) == true
            ? Task.FromException(new IOException("The license store is unreachable (read injected by the test)."))
            : inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Fail(stateName, grainId) ?? inner.WriteStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Fail(stateName, grainId) ?? inner.ClearStateAsync(stateName, grainId, grainState);

    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);

    public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;

    private Task? Fail(string stateName, GrainId grainId)
    {
        if (!(FailWritesOf?.Invoke(stateName, grainId) ?? _failWrites)) return null;
        Interlocked.Increment(ref FailedWrites);
        FailingWriteStarted.TrySetResult();
        var failure = new IOException("The license store is unreachable (injected by the test).");
        return FailDelay > TimeSpan.Zero ? Task.Delay(FailDelay).ContinueWith(_ => throw failure, TaskScheduler.Default) : Task.FromException(failure);
    }
}
