namespace Orleans.Licensing;

/// <summary>
/// When the leader records a fail-over adoption (claims 13, 27), pure. Each lease is checked against the server that
/// holds it now: its origin, or an earlier adopter. A live holder is asked to drop it (and give its seat); a holder that
/// is down must hold it among the leases it had when it was fenced. A claim that does not match is refused as
/// unknown; one that cannot be checked yet is refused with "retry".
/// </summary>
internal static class AdoptionCheck
{
    /// <summary>The claims of one holder, and which of them an earlier adopter never finished.</summary>
    public sealed record HolderClaims(string HolderId, IReadOnlyList<AdoptedLease> Leases, IReadOnlySet<string> Unfinished);

    /// <summary>
    /// Groups a batch by the server that holds each lease now. A lease this adopter has already adopted is a retry and
    /// needs nothing; a lease reported twice is checked once (the copies share its verdict).
    /// </summary>
    public static IReadOnlyList<HolderClaims> ByHolder(IReadOnlyList<AdoptedLease> adoptions, IReadOnlyDictionary<string, Adoption> recorded, string adopterId)
    {
        var byHolder = new Dictionary<string, List<AdoptedLease>>(StringComparer.Ordinal);
        var unfinished = new HashSet<string>(StringComparer.Ordinal);
        foreach (var adoption in adoptions.DistinctBy(a => a.LeaseId, StringComparer.Ordinal))
        {
            var holderId = adoption.OriginServerId;
            if (recorded.TryGetValue(adoption.LeaseId, out var prior))
            {
                if (prior.AdopterServerId == adopterId) continue;
                holderId = prior.AdopterServerId;

                // An earlier adopter that does not hold it never finished its adoption (it failed after the leader
                // recorded it): the lease is still the client's, and moves on.
                if (prior.Matches(adoption)) unfinished.Add(adoption.LeaseId);
            }

            if (!byHolder.TryGetValue(holderId, out var leases)) byHolder[holderId] = leases = [];
            leases.Add(adoption);
        }

        return [.. byHolder.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => new HolderClaims(h.Key, h.Value, unfinished))];
    }

    public enum Verdict
    {
        /// <summary>Record the adoption.</summary>
        Adopt,

        /// <summary>Record it; the seat the down holder held for it is free for this very borrow.</summary>
        AdoptHeld,

        /// <summary>No such lease for that client and count: refused (HTTP 404).</summary>
        Unknown,

        /// <summary>Its holder neither answers nor can be fenced yet: the client retries (HTTP 503).</summary>
        Retry,
    }

    /// <summary>After a live holder answered: it dropped the lease, or did not know it.</summary>
    public static Verdict AtLiveHolder(string leaseId, IReadOnlySet<string> unknownAtHolder, IReadOnlySet<string> unfinished) =>
        unknownAtHolder.Contains(leaseId) && !unfinished.Contains(leaseId) ? Verdict.Unknown : Verdict.Adopt;

    /// <summary>At a holder that did not answer (and was fenced, or not).</summary>
    public static Verdict AtSilentHolder(ShareState holder, AdoptedLease lease, bool unfinished, DateTimeOffset now)
    {
        if (!holder.Down || holder.Unread) return Verdict.Retry;
        if (holder.Held.TryGetValue(lease.LeaseId, out var held) && held.ExpiresAt > now && held.Count == lease.Count
            && (held.ClientId is null || held.ClientId == lease.ClientId))
        {
            return Verdict.AdoptHeld;
        }

        return unfinished ? Verdict.Adopt : Verdict.Unknown;
    }
}
