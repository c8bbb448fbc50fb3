using System.Collections.Concurrent;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// Makes a license server stop answering the leader (as a paused process or a partition from the leader would) while
/// it still serves its own clients: the leader's give-up and transfer calls to it wait until it is resumed.
/// </summary>
public sealed class GiveUpPause : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Paused = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Arrivals = new(StringComparer.Ordinal);

    /// <summary>Completes when a give-up reaches the paused server (the leader is waiting for it from then on).</summary>
    public static Task Arrived(string serverId) => Arrivals.GetOrAdd(serverId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public static void Pause(string serverId) => Paused.TryAdd(serverId, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public static void Resume(string serverId)
    {
        Arrivals.TryRemove(serverId, out _);
        if (Paused.TryRemove(serverId, out var paused)) paused.TrySetResult();
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.Name == nameof(IServerGrain.GiveUp)
            && context.TargetId.Key.ToString() is { } key
            && Paused.TryGetValue(ServerGrainKey.Parse(key).ServerId, out var paused))
        {
            Arrivals.GetOrAdd(ServerGrainKey.Parse(key).ServerId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            await paused.Task;
        }

        await context.Invoke();
    }
}
