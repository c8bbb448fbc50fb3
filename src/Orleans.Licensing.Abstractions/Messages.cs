namespace Orleans.Licensing;

// The admin messages that add seats carry the vendor-signed grant text (olg1.<payload>.<signature>), never its decoded
// fields: the leader verifies it itself. The decoded fields had ids 0 and 2; the grant has a new id, so a message of
// the old shape reads as one without a grant and is refused (grant-malformed).
// Actor: who made the change (an API key id, "jwt:<sub>"), for the audit rows of the usage log; null from older senders.

/// <summary>
/// Add license code message (claims 11, 12, 25, 26): <see cref="Grant"/> is a license code grant for this pool.
/// Without initial shares the seats are split evenly.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.AddLicenseCode")]
public sealed record AddLicenseCode(
    [property: Id(3)] string Grant,
    [property: Id(1)] DistributionCriteria? Criteria = null,
    [property: Id(4)] string? Actor = null);

/// <summary>Add allocations message (claims 9, 10, 23, 24): <see cref="Grant"/> is an allocations grant; its count goes to the free pool.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.AddAllocations")]
public sealed record AddAllocations(
    [property: Id(0)] string Code,
    [property: Id(3)] string Grant,
    [property: Id(4)] string? Actor = null);

/// <summary>
/// How allocations are distributed among servers. Exactly one of <see cref="Shares"/> (explicit counts),
/// <see cref="Weights"/> (proportional) or <see cref="Even"/> says the shares; thresholds are optional.
/// Servers not named get zero; what is not distributed stays in the free pool.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.DistributionCriteria")]
public sealed record DistributionCriteria(
    [property: Id(0)] IReadOnlyDictionary<string, int>? Shares = null,
    [property: Id(1)] IReadOnlyDictionary<string, int>? Weights = null,
    [property: Id(2)] bool Even = false,
    [property: Id(3)] double? DefaultThreshold = null,
    [property: Id(4)] IReadOnlyDictionary<string, double>? Thresholds = null,
    [property: Id(5)] int FreePoolReserve = 0);

/// <summary>Change distribution criteria message (claims 7, 8, 21, 22).</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.ChangeDistributionCriteria")]
public sealed record ChangeDistributionCriteria(
    [property: Id(0)] string Code,
    [property: Id(1)] DistributionCriteria Criteria,
    [property: Id(2)] string? Actor = null);

/// <summary>
/// Distribution criteria sync message (claims 6, 8, 10, 12, 20, 22, 24, 26): the leader's table after a change,
/// plus the leases adopted away from their origin server, which that server must no longer count.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.DistributionSync")]
public sealed record DistributionSync(
    [property: Id(0)] Distribution Distribution,
    [property: Id(1)] IReadOnlyList<AdoptedLease> Adopted)
{
    /// <summary>Offline borrows the leader returned while their server was down: that server drops them.</summary>
    [Id(2)] public IReadOnlyList<string>? ReturnedOfflineBorrows { get; init; }
}

/// <summary>
/// An administrator releases a lease at the server that holds it (lmremove, rlmremove): checked in on their behalf,
/// audited with <see cref="Actor"/> and <see cref="Reason"/>; the client's next heartbeat hears <c>lease-released</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.ReleaseLease")]
public sealed record ReleaseLease(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string Actor,
    [property: Id(2)] string? Reason = null);

/// <summary>A lease of a down server that the leader holds a seat for (what an administrator's lease list shows).</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.HeldLeaseView")]
public sealed record HeldLeaseView(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string LeaseId,
    [property: Id(2)] string? ClientId,
    [property: Id(3)] int Count,
    [property: Id(4)] DateTimeOffset HeldUntil);
