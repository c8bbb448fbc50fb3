namespace Orleans.Licensing.Usage;

/// <summary>
/// One entry of the usage report log: what happened to which license code at which server. <see cref="Detail"/> is
/// the reason of a denial, the source of a borrow (free-pool, down-server, leader-server, live-server) or the origin
/// server of an adoption, or the reason an administrator gave for a release. <see cref="Actor"/> is who made an admin
/// change (an API key id, <c>jwt:&lt;sub&gt;</c>); <see cref="OwnerUser"/> and <see cref="OwnerHost"/> are the user and
/// host a checkout's client named (display data, as the client said it).
/// </summary>
public sealed record UsageEvent(
    DateTimeOffset At,
    string Kind,
    string Code,
    string ServerId,
    string? ClientId = null,
    int Count = 0,
    string? LeaseId = null,
    string? Detail = null,
    string? Actor = null,
    string? OwnerUser = null,
    string? OwnerHost = null);

/// <summary>The kinds of <see cref="UsageEvent"/>; stored as text, stable.</summary>
public static class UsageKinds
{
    public const string Checkout = "checkout";
    public const string Checkin = "checkin";
    public const string Expiry = "expiry";
    public const string Denial = "denial";
    public const string Heartbeat = "heartbeat";
    public const string Adoption = "adoption";
    public const string Borrow = "borrow";
    public const string GiveUp = "give-up";
    public const string CodeAdded = "code-added";
    public const string AllocationsAdded = "allocations-added";
    public const string DistributionChanged = "distribution-changed";

    /// <summary>An administrator released a lease (its seat returned to the server, like a check-in); with actor and reason.</summary>
    public const string Release = "release";

    public static readonly IReadOnlyList<string> All =
        [Checkout, Checkin, Expiry, Denial, Heartbeat, Adoption, Borrow, GiveUp, CodeAdded, AllocationsAdded, DistributionChanged, Release];

    /// <summary>The kinds that change which leases are held: what the seat counts of the report are computed from.</summary>
    public static readonly IReadOnlyList<string> LeaseChanges = [Checkout, Checkin, Expiry, Heartbeat, Adoption, Release];

    /// <summary>The borrow source as a stable name.</summary>
    public static string Source(SourceKind kind) => kind switch
    {
        SourceKind.FreePool => "free-pool",
        SourceKind.DownServer => "down-server",
        SourceKind.LeaderServer => "leader-server",
        _ => "live-server",
    };
}
