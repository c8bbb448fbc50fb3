using Orleans.Runtime;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// Orleans failures that say "not now, here" rather than "no": the caller should retry (the grain may have moved) or try
/// another server. A stale grain activation whose write lost the ETag race (<see cref="InconsistentStateException"/>,
/// e.g. during a leader fail-over) is one of them: the next call reaches the current activation. One home for the
/// rule: the grains' leader calls, the REST layer and the frontends use it.
/// </summary>
public static class TransientFailures
{
    public static bool Is(Exception e) =>
        e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException or InconsistentStateException;
}
