namespace Orleans.Licensing;

/// <summary>
/// Which leases of a fenced server the leader keeps allocations for, so that their clients can fail over with them.
/// </summary>
internal static class HeldLeases
{
    /// <summary>
    /// Every lease the fenced server has not adopted away, held for one lease TTL on the leader's clock from the fence:
    /// the server acknowledged no renewal after the fence, so no client may renew later than that, whatever the two
    /// silos' clocks say. A lease that looks expired by up to one TTL is held too (its server's clock may run behind
    /// ours). Never more than the leader counts for the server: the soonest expiring go first.
    /// An offline borrow (<paramref name="borrows"/>, from the leader's own permits) is held until its end on the leader's
    /// clock instead, whatever the fenced server's lease says; one returned at the leader (null) is not held.
    /// </summary>
    public static Dictionary<string, HeldLease> Of(
        string serverId, IEnumerable<LeaseRecord> leases, IReadOnlyDictionary<string, Adoption> adoptions,
        int allocated, DateTimeOffset now, TimeSpan ttl, IReadOnlyDictionary<string, DateTimeOffset?>? borrows = null)
    {
        borrows ??= new Dictionary<string, DateTimeOffset?>();
        // A lingering lease is held until the end its server journaled (no client renews or adopts it).
        DateTimeOffset Until(LeaseRecord l) =>
            borrows.TryGetValue(l.LeaseId, out var end) && end is { } e ? e : l.Lingering ? l.ExpiresAt : now + ttl;
        var candidates = leases
            .Where(l => borrows.TryGetValue(l.LeaseId, out var end) ? end is not null : l.Lingering ? l.ExpiresAt > now : l.ExpiresAt > now - ttl)
            .Where(l => !adoptions.TryGetValue(l.LeaseId, out var adoption) || adoption.AdopterServerId == serverId)
            .OrderByDescending(l => Until(l)).ThenByDescending(l => l.ExpiresAt).ThenBy(l => l.LeaseId, StringComparer.Ordinal);
        var held = new Dictionary<string, HeldLease>(StringComparer.Ordinal);
        var count = 0;
        foreach (var lease in candidates)
        {
            if (count + lease.Count > allocated) continue;
            held[lease.LeaseId] = new HeldLease(lease.Count, Until(lease), lease.ClientId);
            count += lease.Count;
        }

        return held;
    }

    /// <summary>The leases held now for down servers, by server then lease id (a server that is up again holds none).</summary>
    public static IReadOnlyList<HeldLeaseView> Views(IReadOnlyDictionary<string, ShareState> servers, DateTimeOffset now) =>
        [.. servers.Where(s => s.Value.Down).OrderBy(s => s.Key, StringComparer.Ordinal)
            .SelectMany(s => s.Value.Held.Where(h => h.Value.ExpiresAt > now).OrderBy(h => h.Key, StringComparer.Ordinal)
                .Select(h => new HeldLeaseView(s.Key, h.Key, h.Value.ClientId, h.Value.Count, h.Value.ExpiresAt)))];
}
