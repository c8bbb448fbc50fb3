using System.Collections.Concurrent;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// Makes a license server stop answering the leader (as a paused process or a partition from the leader would) while
/// it still serves its own clients: the leader's give-up and transfer calls to it wait until it is resumed.
/// </summary>
public sealed class GiveUpPause : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Paused = new(StringComparer.Ordinal);

    public static void Pause(string serverId) => Paused.TryAdd(serverId, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public static void Resume(string serverId)
    {
        if (Paused.TryRemove(serverId, out var paused)) paused.TrySetResult();
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.Name == nameof(IServerGrain.GiveUp)
            && context.TargetId.Key.ToString() is { } key
            && Paused.TryGetValue(ServerGrainKey.Parse(key).ServerId, out var paused))
        {
            await paused.Task;
        }

        await context.Invoke();
    }
}
