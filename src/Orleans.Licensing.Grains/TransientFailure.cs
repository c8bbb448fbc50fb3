namespace Orleans.Licensing;

/// <summary>Failures of a call that a retry (to the same grain, which may have moved) can cure.</summary>
internal static class TransientFailure
{
    public static bool Is(Exception e) => e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException;
}
