namespace Orleans.Licensing;

/// <summary>
/// Leases that moved from this server to an adopter, kept in the server's record until they would expire, pure. A
/// client whose fail-over answer was lost comes home with such a lease: the leader decides where it lives, not a 404.
/// </summary>
internal static class MovedAway
{
    public static IReadOnlyDictionary<string, DateTimeOffset> Add(IReadOnlyDictionary<string, DateTimeOffset> moved, IEnumerable<string> leaseIds, DateTimeOffset until, DateTimeOffset now)
    {
        var next = Prune(moved, now);
        foreach (var id in leaseIds) next[id] = until;
        return next;
    }

    public static bool Contains(IReadOnlyDictionary<string, DateTimeOffset> moved, string leaseId, DateTimeOffset now) =>
        moved.TryGetValue(leaseId, out var until) && until > now;

    /// <summary>Whether anything in <paramref name="moved"/> has expired (then a record change may drop it).</summary>
    public static bool HasExpired(IReadOnlyDictionary<string, DateTimeOffset> moved, DateTimeOffset now) => moved.Values.Any(u => u <= now);

    public static Dictionary<string, DateTimeOffset> Prune(IReadOnlyDictionary<string, DateTimeOffset> moved, DateTimeOffset now) =>
        moved.Where(m => m.Value > now).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
}
