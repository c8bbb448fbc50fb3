namespace Orleans.Licensing;

/// <summary>
/// The lease ids an administrator released at a server, each remembered for one lease TTL: long enough for the
/// released client's next heartbeat (it renews well within a TTL) to hear <c>lease-released</c> rather than
/// <c>lease-unknown</c>, and for a second release to be told it was released already. Kept in memory only: after the
/// server restarts, a released lease is simply unknown (docs/admin/who-holds-what.md).
/// </summary>
internal sealed class ReleasedLeases(TimeSpan ttl)
{
    private readonly Dictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);

    public int Count => _until.Count;

    public void Add(string leaseId, DateTimeOffset now) => _until[leaseId] = now + ttl;

    public bool Contains(string leaseId, DateTimeOffset now) => _until.TryGetValue(leaseId, out var until) && until > now;

    /// <summary>Forgets the ids older than a TTL (the sweep calls this).</summary>
    public void Sweep(DateTimeOffset now)
    {
        foreach (var id in _until.Where(e => e.Value <= now).Select(e => e.Key).ToList()) _until.Remove(id);
    }

    /// <summary>Throws <c>lease-released</c> for a lease released within the last TTL.</summary>
    public void ThrowIfReleased(string leaseId, string serverId, DateTimeOffset now)
    {
        if (Contains(leaseId, now))
        {
            throw new LicensingException(LicensingErrors.LeaseReleased, $"Lease '{leaseId}' was released by an administrator at '{serverId}': check out again.");
        }
    }
}
