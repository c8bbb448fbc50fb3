namespace Orleans.Licensing.Usage;

/// <summary>
/// What the grains tell about usage: one call per event, which never blocks and never fails (see <see cref="UsageLog"/>:
/// it counts the event in the metrics and queues it for the durable log).
/// </summary>
public interface IUsageRecorder
{
    void Record(UsageEvent usage);
}

/// <summary>Records nothing: for silos without the usage log.</summary>
public sealed class NullUsageRecorder : IUsageRecorder
{
    public static readonly NullUsageRecorder Instance = new();

    public void Record(UsageEvent usage)
    {
    }
}

/// <summary>One-line emit calls for the grains.</summary>
public static class UsageRecorderExtensions
{
    public static void Lease(this IUsageRecorder recorder, string kind, string code, string serverId, string leaseId, string clientId, int count, string? detail = null) =>
        recorder.Record(new UsageEvent(DateTimeOffset.UtcNow, kind, code, serverId, clientId, count, leaseId, detail));

    /// <summary>A lease granted (checkout) or released by an administrator: with its owner's user and host, and the actor of a release.</summary>
    public static void Lease(this IUsageRecorder recorder, string kind, string code, string serverId, LeaseRecord lease, string? detail = null, string? actor = null) =>
        recorder.Record(new UsageEvent(DateTimeOffset.UtcNow, kind, code, serverId, lease.ClientId, lease.Count, lease.LeaseId, detail, actor, lease.Owner?.User, lease.Owner?.Host));

    public static void Denial(this IUsageRecorder recorder, string code, string serverId, string clientId, int count, string reason) =>
        recorder.Record(new UsageEvent(DateTimeOffset.UtcNow, UsageKinds.Denial, code, serverId, clientId, count, null, reason));

    public static void Pool(this IUsageRecorder recorder, string kind, string code, string serverId, int count, string? detail = null) =>
        recorder.Record(new UsageEvent(DateTimeOffset.UtcNow, kind, code, serverId, null, count, null, detail));

    /// <summary>An admin change the leader made; passes its answer through.</summary>
    public static Distribution Admin(this IUsageRecorder recorder, string kind, string code, string serverId, int count, Distribution answer, string? actor = null)
    {
        recorder.Record(new UsageEvent(DateTimeOffset.UtcNow, kind, code, serverId, null, count, null, $"version {answer.Version}, seats {answer.Total}", actor));
        return answer;
    }

    /// <summary>One event per source of a borrow the leader granted; <paramref name="serverId"/> is the taker.</summary>
    public static void Borrowed(this IUsageRecorder recorder, string code, string serverId, BorrowReason reason, IEnumerable<BorrowSource> sources)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var source in sources)
        {
            if (source.Count <= 0) continue;
            var detail = UsageKinds.Source(source.Kind) + (source.ServerId is null ? "" : ":" + source.ServerId) + (reason == BorrowReason.FailoverUpdate ? " (fail-over)" : "");
            recorder.Record(new UsageEvent(now, UsageKinds.Borrow, code, serverId, null, source.Count, null, detail));
        }
    }
}
