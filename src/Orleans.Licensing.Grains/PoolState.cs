namespace Orleans.Licensing;

/// <summary>The leader's persisted state of one license code: the distribution and what makes its changes idempotent.</summary>
[GenerateSerializer, Alias("Orleans.Licensing.PoolState")]
public sealed class PoolState
{
    [Id(0)] public LicenseCode? License { get; set; }
    [Id(1)] public int Total { get; set; }
    [Id(2)] public int FreePool { get; set; }
    [Id(3)] public long Version { get; set; }
    [Id(4)] public Dictionary<string, ShareState> Servers { get; set; } = [];
    [Id(5)] public DistributionCriteria? Criteria { get; set; }

    /// <summary>Outcomes of the latest borrows by operation id: a retried borrow is answered, not repeated.</summary>
    [Id(6)] public List<BorrowOutcome> RecentBorrows { get; set; } = [];

    /// <summary>Leases adopted in fail-over mode, by lease id, until they would have expired.</summary>
    [Id(7)] public Dictionary<string, Adoption> Adoptions { get; set; } = [];

    /// <summary>Ids of the signed grants applied to this code (its license code grant, allocations grants): each applies once.</summary>
    [Id(8)] public HashSet<string> AppliedGrants { get; set; } = [];
}

[GenerateSerializer, Alias("Orleans.Licensing.ShareState")]
public sealed class ShareState
{
    [Id(0)] public int Allocated { get; set; }
    [Id(1)] public int InUse { get; set; }
    [Id(2)] public double Threshold { get; set; }
    [Id(3)] public int BaseShare { get; set; }
    [Id(4)] public bool Down { get; set; }

    /// <summary>While down: its leases that live clients may still fail over with, by lease id.</summary>
    [Id(5)] public Dictionary<string, HeldLease> Held { get; set; } = [];

    /// <summary>The silo address it rejoined from, until membership shows that silo active.</summary>
    [Id(6)] public string? RejoinedFrom { get; set; }

    /// <summary>
    /// The leader fenced its journal: it acknowledges nothing until it rejoins through the leader, whatever membership
    /// says of it (a paused or partitioned server may look alive while its allocations are counted elsewhere).
    /// </summary>
    [Id(7)] public bool Fenced { get; set; }

    /// <summary>Down, but its leases could not be read: everything it has is held until they can be.</summary>
    [Id(8)] public bool Unread { get; set; }

    public int HeldCount(DateTimeOffset now) => Unread ? Allocated : Held.Values.Where(h => h.ExpiresAt > now).Sum(h => h.Count);

    /// <summary>A down server's allocations that back no live lease: a source at once.</summary>
    public int DownUnused(DateTimeOffset now) => Down ? Math.Max(0, Allocated - HeldCount(now)) : 0;
}

[GenerateSerializer, Immutable, Alias("Orleans.Licensing.HeldLease")]
public sealed record HeldLease([property: Id(0)] int Count, [property: Id(1)] DateTimeOffset ExpiresAt, [property: Id(2)] string? ClientId = null);

[GenerateSerializer, Immutable, Alias("Orleans.Licensing.Adoption")]
public sealed record Adoption(
    [property: Id(0)] string OriginServerId,
    [property: Id(1)] string AdopterServerId,
    [property: Id(2)] DateTimeOffset ExpiresAt,
    [property: Id(3)] string? ClientId = null,
    [property: Id(4)] int Count = 0)
{
    /// <summary>Whether a fail-over update is for this very lease (same client, same count).</summary>
    public bool Matches(AdoptedLease update) => ClientId == update.ClientId && Count == update.Count;
}

[GenerateSerializer, Immutable, Alias("Orleans.Licensing.BorrowOutcome")]
public sealed record BorrowOutcome(
    [property: Id(0)] Guid OperationId,
    [property: Id(1)] int Granted,
    [property: Id(2)] IReadOnlyList<BorrowSource> Sources,
    [property: Id(3)] IReadOnlyDictionary<string, string>? Refused = null);
