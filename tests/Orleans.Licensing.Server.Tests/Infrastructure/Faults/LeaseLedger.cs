using System.Collections.Concurrent;
using System.Diagnostics;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Server.Tests.Infrastructure.Faults;

/// <summary>What the clients were told, on one monotonic clock: every lease's acknowledgements and every lease answer on the wire.</summary>
public sealed class LeaseLedger
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<string, LeaseRecord> _leases = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<WireAnswer> _answers = new();

    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyCollection<LeaseRecord> Leases => [.. _leases.Values];

    public IReadOnlyCollection<WireAnswer> Answers => [.. _answers];

    /// <summary>
    /// Maps a server's absolute expiry onto the monotonic clock at the moment it is acknowledged (all processes share
    /// this machine's clock, so the difference is the TTL the server granted).
    /// </summary>
    public TimeSpan Until(DateTimeOffset expiresAt, TimeSpan acknowledgedAt) => acknowledgedAt + (expiresAt - DateTimeOffset.UtcNow);

    public LeaseRecord CheckedOut(string clientId, LeaseInfo lease, TimeSpan acknowledgedAt)
    {
        var record = new LeaseRecord(lease.LeaseId, clientId, lease.Count);
        record.Acknowledged(acknowledgedAt, Until(lease.ExpiresAt, acknowledgedAt), lease.ServerId, failedOver: false);
        if (!_leases.TryAdd(lease.LeaseId, record)) throw new InvalidOperationException($"Lease {lease.LeaseId} acknowledged twice by checkouts.");
        return record;
    }

    public void Answered(WireAnswer answer) => _answers.Enqueue(answer);

    public LeaseRecord? Find(string leaseId) => _leases.GetValueOrDefault(leaseId);
}

/// <summary>One acknowledgement: the checkout or a renewal (possibly a fail-over adoption), and until when it holds.</summary>
public readonly record struct Acknowledgement(TimeSpan At, TimeSpan Until, string ServerId, bool FailedOver);

/// <summary>
/// One lease as its client saw it. It is held from the checkout's acknowledgement until the earliest of: the check-in
/// was sent, the client was told it lost the lease, the last acknowledged renewal ran out.
/// </summary>
public sealed class LeaseRecord(string leaseId, string clientId, int count)
{
    private readonly Lock _gate = new();
    private readonly List<Acknowledgement> _acks = [];

    public string LeaseId { get; } = leaseId;

    public string ClientId { get; } = clientId;

    public int Count { get; } = count;

    public TimeSpan? CheckinSentAt { get; private set; }

    public (TimeSpan At, string Error)? Lost { get; private set; }

    public IReadOnlyList<Acknowledgement> Acks
    {
        get { lock (_gate) return [.. _acks]; }
    }

    public TimeSpan Start => Acks[0].At;

    public TimeSpan End
    {
        get
        {
            lock (_gate)
            {
                var end = _acks[^1].Until;
                if (CheckinSentAt is { } checkin && checkin < end) end = checkin;
                if (Lost is { } lost && lost.At < end) end = lost.At;
                return end;
            }
        }
    }

    /// <summary>Until when the lease was held by what the client had been told before <paramref name="at"/>.</summary>
    public TimeSpan HeldUntilAsOf(TimeSpan at)
    {
        lock (_gate) return _acks.Where(a => a.At <= at).Select(a => a.Until).DefaultIfEmpty(TimeSpan.Zero).Max();
    }

    public void Acknowledged(TimeSpan at, TimeSpan until, string serverId, bool failedOver)
    {
        lock (_gate) _acks.Add(new Acknowledgement(at, until, serverId, failedOver));
    }

    public void CheckinSent(TimeSpan at)
    {
        lock (_gate) CheckinSentAt ??= at;
    }

    public void MarkLost(TimeSpan at, string error)
    {
        lock (_gate) Lost ??= (at, error);
    }

    public override string ToString()
    {
        var acks = Acks;
        var path = string.Join(">", acks.Select(a => a.ServerId).Distinct());
        return $"{LeaseId[..8]} {ClientId} x{Count} at {path} [{Start.TotalSeconds:0.00}s, {End.TotalSeconds:0.00}s) " +
               $"{acks.Count - 1} renewals" + (Lost is { } l ? $", lost {l.Error} at {l.At.TotalSeconds:0.00}s" : "");
    }
}

public enum WireOutcome
{
    Ok,

    /// <summary>503, 429, 408, a timeout or a connection error: the client retries, nothing was refused.</summary>
    Retry,

    /// <summary>Any other answer: the pool said no.</summary>
    Refused,
}

/// <param name="NamedServerId">For an update: the server the client believes holds the lease (another than the target: fail-over).</param>
public sealed record WireAnswer(TimeSpan SentAt, TimeSpan AnsweredAt, string Method, string? LeaseId, string TargetServerId,
    string? NamedServerId, int? Status, string? Error, string? Exception)
{
    public WireOutcome Outcome => Status switch
    {
        null => WireOutcome.Retry,
        >= 200 and < 300 => WireOutcome.Ok,
        503 or 429 or 408 => WireOutcome.Retry,
        _ => WireOutcome.Refused,
    };

    public bool IsFailOver => Method == "PUT" && NamedServerId is not null && NamedServerId != TargetServerId;

    public string Kind => Method switch { "POST" => "checkout", "PUT" => IsFailOver ? "fail-over update" : "renewal", "DELETE" => "check-in", _ => Method };

    public string Answer => Status is { } s ? $"{s}{(Error is null ? "" : " " + Error)}" : Exception ?? "?";

    public override string ToString() =>
        $"{Kind} of {LeaseId?[..Math.Min(8, LeaseId.Length)]} to {TargetServerId}{(IsFailOver ? $" (named {NamedServerId})" : "")} sent {SentAt.TotalSeconds:0.00}s: {Answer}";
}
