namespace Orleans.Licensing;

// Offline borrow (FlexNet BORROW, RLM roam): a checkout held for days without heartbeats. Not to be confused with a
// server's borrow of allocations from the leader (Borrowing.cs). See docs/admin/offline-borrow.md.

/// <summary>
/// A license code's offline borrow policy, set by an admin: at most <see cref="MaxCount"/> seats borrowed at once
/// pool-wide, each borrow at most <see cref="MaxDuration"/> long. <see cref="Version"/> grows with each change; 0 is the
/// default policy, which allows no borrow.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.OfflineBorrowPolicy")]
public sealed record OfflineBorrowPolicy(
    [property: Id(0)] int MaxCount,
    [property: Id(1)] TimeSpan MaxDuration,
    [property: Id(2)] long Version = 0,
    [property: Id(3)] TimeSpan Linger = default)
{
    /// <summary>The longest linger (FlexNet LINGER) a code may have: <see cref="Linger"/> is 0 (off) up to this.</summary>
    public static readonly TimeSpan LingerCeiling = TimeSpan.FromHours(24);

    /// <summary>The longest borrow any policy may allow.</summary>
    public static readonly TimeSpan Ceiling = TimeSpan.FromDays(90);

    /// <summary>Until an admin enables it, a code allows no offline borrow.</summary>
    public static readonly OfflineBorrowPolicy Off = new(0, TimeSpan.FromDays(7));
}

/// <summary>Admin message: a code's new linger (0 = off): a checked-in lease keeps its seat this long (docs/admin/linger.md).</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.SetLinger")]
public sealed record SetLinger(
    [property: Id(0)] string Code,
    [property: Id(1)] TimeSpan Linger);

/// <summary>The policy and how many seats are borrowed now (pool-wide), as the license view shows them.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.OfflineBorrowView")]
public sealed record OfflineBorrowView(
    [property: Id(0)] OfflineBorrowPolicy Policy,
    [property: Id(1)] int Borrowed);

/// <summary>Admin message: a code's new offline borrow policy.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.SetOfflineBorrowPolicy")]
public sealed record SetOfflineBorrowPolicy(
    [property: Id(0)] string Code,
    [property: Id(1)] int MaxCount,
    [property: Id(2)] TimeSpan MaxDuration);

/// <summary>A server asks the leader for a permit before it grants an offline borrow (one per lease id).</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.OfflineBorrowPermitRequest")]
public sealed record OfflineBorrowPermitRequest(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string ServerId,
    [property: Id(2)] string ClientId,
    [property: Id(3)] int Count,
    [property: Id(4)] TimeSpan Duration);

/// <summary>The leader's answer: the borrow's end on the leader's clock, or why it is refused (<c>borrow-limit</c>).</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.OfflineBorrowPermitAnswer")]
public sealed record OfflineBorrowPermitAnswer(
    [property: Id(0)] DateTimeOffset? EndsAt,
    [property: Id(1)] string? Denial = null);
