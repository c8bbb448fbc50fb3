namespace Orleans.Licensing;

/// <summary>
/// The arithmetic of offline borrows at the leader, pure (the caller passes the time and writes the state): the
/// policy's validation, the pool-wide count of seats borrowed now, and which permits a fenced server's leases keep.
/// A permit is counted until its end or its release; one held too long only blocks borrows, never seats.
/// </summary>
internal static class OfflineBorrowBook
{
    /// <summary>Why a policy is invalid for a code of <paramref name="seats"/> seats, or null.</summary>
    public static string? Invalid(int maxCount, TimeSpan maxDuration, int seats)
    {
        if (maxCount < 0 || maxCount > seats) return $"The max count must be between 0 and {seats}, the seats of the code.";
        if (maxDuration <= TimeSpan.Zero || maxDuration > OfflineBorrowPolicy.Ceiling)
            return $"The max duration must be more than zero and at most {OfflineBorrowPolicy.Ceiling.TotalDays:0} days.";
        return null;
    }

    /// <summary>The next version of the policy. Throws <c>invalid-request</c> and changes nothing when it is invalid.</summary>
    public static OfflineBorrowPolicy SetPolicy(OfflineBorrowState state, int maxCount, TimeSpan maxDuration, int seats)
    {
        if (Invalid(maxCount, maxDuration, seats) is { } why) throw new LicensingException(LicensingErrors.InvalidRequest, why);
        state.Policy = state.Policy with { MaxCount = maxCount, MaxDuration = maxDuration, Version = state.Policy.Version + 1 };
        return state.Policy;
    }

    /// <summary>Seats borrowed now, pool-wide: permits not returned and not ended.</summary>
    public static int Borrowed(OfflineBorrowState state, DateTimeOffset now) =>
        state.Permits.Values.Where(p => Active(p, now)).Sum(p => p.Count);

    /// <summary>
    /// The permit for a request: the one already given for this lease id (a retry), or a new one, or a denial. A lease id
    /// permitted to another server, client or count is a conflict. Nothing changes here: the caller stores a new permit.
    /// </summary>
    public static (OfflineBorrowPermit? Permit, bool New, string? Denial) Decide(OfflineBorrowState state, OfflineBorrowPermitRequest request, DateTimeOffset now)
    {
        if (request.Duration <= TimeSpan.Zero) throw new LicensingException(LicensingErrors.InvalidRequest, "An offline borrow needs a duration of more than zero.");
        if (state.Permits.TryGetValue(request.LeaseId, out var given) && Active(given, now))
        {
            if (given.ServerId == request.ServerId && given.ClientId == request.ClientId && given.Count == request.Count) return (given, false, null);
            throw new LicensingException(LicensingErrors.Conflict, $"Lease '{request.LeaseId}' is borrowed by another client, server or count.");
        }

        var policy = state.Policy;
        if (request.Duration > policy.MaxDuration)
            return (null, false, $"An offline borrow may last at most {Describe(policy.MaxDuration)} (policy version {policy.Version}); {Describe(request.Duration)} was asked.");
        var borrowed = Borrowed(state, now);
        if (borrowed + request.Count > policy.MaxCount)
            return (null, false, $"At most {policy.MaxCount} seats may be borrowed offline at once (policy version {policy.Version}); {borrowed} are borrowed now, {request.Count} more were asked.");
        return (new OfflineBorrowPermit(request.ServerId, request.ClientId, request.Count, now + request.Duration), true, null);
    }

    /// <summary>Whether the lease is an offline borrow now (permitted, not returned, not ended).</summary>
    public static bool IsBorrowed(OfflineBorrowState state, string leaseId, DateTimeOffset now) =>
        state.Permits.TryGetValue(leaseId, out var p) && Active(p, now);

    /// <summary>The server checked the borrow in (or never granted it). Returns whether a permit went.</summary>
    public static bool Release(OfflineBorrowState state, string leaseId, string serverId) =>
        state.Permits.TryGetValue(leaseId, out var permit) && permit.ServerId == serverId && state.Permits.Remove(leaseId);

    /// <summary>The permit of an offline borrow that <paramref name="clientId"/> may return at the leader, if there is one.</summary>
    public static OfflineBorrowPermit? Returnable(OfflineBorrowState state, string leaseId, string clientId, string serverId, DateTimeOffset now) =>
        state.Permits.TryGetValue(leaseId, out var p) && Active(p, now) && p.ServerId == serverId && p.ClientId == clientId ? p : null;

    /// <summary>Returned at the leader: it counts no more, and its server is told to drop the lease until the borrow's end.</summary>
    public static void MarkReturned(OfflineBorrowState state, string leaseId)
    {
        if (state.Permits.TryGetValue(leaseId, out var p)) state.Permits[leaseId] = p with { Returned = true };
    }

    /// <summary>The lease ids a server must drop (returned at the leader).</summary>
    public static IReadOnlyList<string> ReturnedLeases(OfflineBorrowState state) =>
        [.. state.Permits.Where(p => p.Value.Returned).Select(p => p.Key).Order(StringComparer.Ordinal)];

    /// <summary>Forgets the permits whose borrows have ended. Returns how many.</summary>
    public static int Prune(OfflineBorrowState state, DateTimeOffset now)
    {
        var ended = state.Permits.Where(p => p.Value.EndsAt <= now).Select(p => p.Key).ToList();
        foreach (var id in ended) state.Permits.Remove(id);
        return ended.Count;
    }

    /// <summary>
    /// A server was fenced and its journal read: a permit of it whose lease is not in the journal was never granted
    /// (a fenced server appends nothing more), so it goes. Returns the borrows of its leases by lease id: the end to
    /// hold each lease until, or null for one returned at the leader (nothing to hold).
    /// </summary>
    public static Dictionary<string, DateTimeOffset?> Fenced(OfflineBorrowState state, string serverId, IEnumerable<string> journaled, DateTimeOffset now)
    {
        var leases = journaled.ToHashSet(StringComparer.Ordinal);
        foreach (var id in state.Permits.Where(p => p.Value.ServerId == serverId && !p.Value.Returned && !leases.Contains(p.Key)).Select(p => p.Key).ToList())
        {
            state.Permits.Remove(id);
        }

        return state.Permits.Where(p => p.Value.ServerId == serverId && p.Value.EndsAt > now)
            .ToDictionary(p => p.Key, p => p.Value.Returned ? (DateTimeOffset?)null : p.Value.EndsAt, StringComparer.Ordinal);
    }

    private static bool Active(OfflineBorrowPermit p, DateTimeOffset now) => !p.Returned && p.EndsAt > now;

    private static string Describe(TimeSpan span) => System.Xml.XmlConvert.ToString(span);
}
