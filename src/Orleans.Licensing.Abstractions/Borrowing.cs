namespace Orleans.Licensing;

/// <summary>Why a server borrows: the leader searches sources in a different order for each (claims 5 and 14).</summary>
public enum BorrowReason
{
    /// <summary>A client's request for authorization: free pool, down servers, the leader server.</summary>
    ClientRequest = 0,

    /// <summary>A client's update in fail-over mode: the leader server, free pool, down servers, other live servers.</summary>
    FailoverUpdate = 1,
}

/// <summary>Where borrowed allocations came from.</summary>
public enum SourceKind
{
    FreePool = 0,
    DownServer = 1,
    LeaderServer = 2,
    LiveServer = 3,
}

/// <summary>
/// A lease that a server adopted from another one (the client's previous server) in fail-over mode. In a sync,
/// <see cref="AdopterServerId"/> is the server that holds it now: every other server must not count it.
/// In a borrow request, <see cref="ClientId"/> and <see cref="Count"/> are what the client claims: the leader checks
/// them against the lease the origin holds (a made-up or someone else's lease id is refused).
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.AdoptedLease")]
public sealed record AdoptedLease(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string OriginServerId,
    [property: Id(2)] DateTimeOffset ExpiresAt,
    [property: Id(3)] string? AdopterServerId = null,
    [property: Id(4)] string? ClientId = null,
    [property: Id(5)] int Count = 0);

/// <summary>A server's request to the leader for more allocations. Retrying with the same operation id is safe.</summary>
/// <param name="Count">Allocations wanted; zero when the server only reports adoptions.</param>
/// <param name="Adoptions">Leases the server adopted in fail-over mode; one request carries every adoption that arrived
/// while the server's previous one was at the leader.</param>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.BorrowRequest")]
public sealed record BorrowRequest(
    [property: Id(0)] Guid OperationId,
    [property: Id(1)] string ServerId,
    [property: Id(2)] int Count,
    [property: Id(3)] BorrowReason Reason,
    [property: Id(4)] int InUse,
    [property: Id(5)] IReadOnlyList<AdoptedLease>? Adoptions = null);

/// <summary>One source the leader took allocations from.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.BorrowSource")]
public sealed record BorrowSource(
    [property: Id(0)] SourceKind Kind,
    [property: Id(1)] string? ServerId,
    [property: Id(2)] int Count);

/// <summary>
/// The leader's answer to a borrow: how many were granted, from where, and the distribution after it.
/// <see cref="Refused"/>: adoptions the leader did not record, by lease id, with the error to answer the client
/// (<see cref="LicensingErrors.LeaseUnknown"/>: no such lease at its server; <see cref="LicensingErrors.Unavailable"/>:
/// its server could neither be asked nor fenced yet, so the client retries).
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.BorrowGrant")]
public sealed record BorrowGrant(
    [property: Id(0)] Guid OperationId,
    [property: Id(1)] int Granted,
    [property: Id(2)] IReadOnlyList<BorrowSource> Sources,
    [property: Id(3)] DistributionSync Sync,
    [property: Id(4)] IReadOnlyDictionary<string, string>? Refused = null);

/// <summary>How much a giving server keeps when the leader asks it to give allocations up.</summary>
public enum GiveUpMode
{
    /// <summary>Give unused allocations: keep only those in use (claims 15, 29, 33).</summary>
    Unused = 0,

    /// <summary>Give idle surplus: keep the base share and what keeps usage within the threshold (claim 32).</summary>
    Surplus = 1,

    /// <summary>
    /// Give the allocations of the named leases and drop them: their clients failed over to another server, and the
    /// seat moves with the lease.
    /// </summary>
    Leases = 2,

    /// <summary>
    /// Give idle allocations to a server that would deny a checkout: keep only what keeps usage within the threshold
    /// (claim 32's re-distribution, at the moment demand needs it).
    /// </summary>
    Idle = 3,
}

/// <summary>
/// The leader asks a live server to give up to <see cref="Count"/> allocations. The giver shrinks its own record first;
/// the leader grows the taker only after that. <see cref="Share"/> is the giver's row at <see cref="LeaderVersion"/>;
/// the change lands in the distribution as version <see cref="NextVersion"/>.
/// </summary>
// The alias is the type's earlier name ("transfer"): stored records and silos of the previous version still read it.
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.TransferRequest")]
public sealed record GiveUpRequest(
    [property: Id(0)] Guid OperationId,
    [property: Id(1)] int Count,
    [property: Id(2)] GiveUpMode Mode,
    [property: Id(3)] long LeaderVersion,
    [property: Id(4)] int Share,
    [property: Id(5)] long NextVersion,
    [property: Id(6)] IReadOnlyList<AdoptedLease>? Leases = null);

[GenerateSerializer, Immutable, Alias("Orleans.Licensing.TransferResult")]
public sealed record GiveUpResult(
    [property: Id(0)] Guid OperationId,
    [property: Id(1)] int Given,
    [property: Id(2)] int InUse,
    [property: Id(3)] IReadOnlyList<string>? Unknown = null);
