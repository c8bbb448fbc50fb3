using System.Collections.Concurrent;

namespace Orleans.Licensing.Usage;

/// <summary>
/// Which heartbeats reach the durable log: a lease's first one, then at most one per <c>interval</c> (a client renews
/// every third of a lease lifetime, so logging each would be a row per lease every few seconds, forever). The report
/// still finds every lease held at the start of its period: the newest row of a held lease is at most
/// <c>lease TTL + interval</c> old (see <see cref="UsageReport.Lookback"/>). Interval zero: every heartbeat.
/// Memory: one entry per lease renewed within two intervals; check-ins and expiries forget theirs at once.
/// </summary>
public sealed class HeartbeatSampler(TimeSpan interval)
{
    private readonly ConcurrentDictionary<string, long> _lastLogged = new(StringComparer.Ordinal);
    private readonly long _interval = interval.Ticks;

    public int Tracked => _lastLogged.Count;

    /// <summary>True when this heartbeat is written; the lease's checkout or adoption counts as its last sighting.</summary>
    public bool ShouldLog(string leaseId, DateTimeOffset at)
    {
        if (_interval <= 0) return true;
        var now = at.UtcTicks;
        if (_lastLogged.TryGetValue(leaseId, out var last) && now - last < _interval) return false;
        _lastLogged[leaseId] = now;
        return true;
    }

    /// <summary>A row of the lease was written anyway (checkout, adoption): the next heartbeat row is due an interval later.</summary>
    public void Seen(string leaseId, DateTimeOffset at)
    {
        if (_interval > 0) _lastLogged[leaseId] = at.UtcTicks;
    }

    public void Forget(string leaseId) => _lastLogged.TryRemove(leaseId, out _);

    /// <summary>Drops leases not renewed for two intervals (moved away or expired unseen); their next heartbeat is logged.</summary>
    public void Sweep(DateTimeOffset now)
    {
        if (_interval <= 0) return;
        var horizon = now.UtcTicks - 2 * _interval;
        foreach (var (leaseId, last) in _lastLogged)
        {
            if (last < horizon) _lastLogged.TryRemove(new KeyValuePair<string, long>(leaseId, last));
        }
    }
}
