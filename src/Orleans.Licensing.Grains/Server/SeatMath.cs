namespace Orleans.Licensing;

/// <summary>
/// A license server's seat arithmetic (claims 2, 3, 31, 33), pure. "Bound" seats are those in use by leases plus those
/// of fail-over adoptions reported and not settled yet (<see cref="AdoptionBatch"/>): neither a checkout nor the leader
/// may take them.
/// </summary>
internal static class SeatMath
{
    /// <summary>Claim 2: usage / allocated above the threshold means too few allocations.</summary>
    public static bool AboveThreshold(int inUse, int allocated, double threshold) =>
        allocated <= 0 ? inUse > 0 : (double)inUse / allocated > threshold;

    /// <summary>The fewest allocations that keep <paramref name="inUse"/> within the threshold.</summary>
    public static int Needed(int inUse, double threshold) =>
        inUse <= 0 ? 0 : (int)Math.Ceiling(inUse / Math.Max(threshold, DistributionPlanner.MinThreshold) - 1e-9);

    /// <summary>Seats a checkout may take now.</summary>
    public static int Room(int allocated, int bound) => allocated - bound;

    /// <summary>Allocations missing for <paramref name="wanted"/> more bound seats, and to keep usage within the threshold (claim 2).</summary>
    public static int Shortfall(int bound, int allocated, double threshold, int wanted)
    {
        var inUse = bound + wanted;
        return Math.Max(Math.Max(inUse - allocated, Needed(inUse, threshold) - allocated), 0);
    }

    /// <summary>How many of <paramref name="allocated"/> a server gives when the leader asks for <paramref name="count"/> (claim 33).</summary>
    public static int Givable(GiveUpMode mode, int allocated, int bound, double threshold, int baseShare, int count)
    {
        var keep = mode switch
        {
            GiveUpMode.Unused => bound,
            GiveUpMode.Idle => Math.Max(Needed(bound, threshold), bound),
            _ => Math.Max(Math.Max(baseShare, Needed(bound, threshold)), bound),
        };
        return Math.Clamp(allocated - keep, 0, Math.Max(0, count));
    }
}
