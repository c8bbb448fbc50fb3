namespace Orleans.Licensing.Client;

// The JSON shapes of the license server's REST API v1, as the client sees them.

/// <param name="Grant">The vendor-signed license code grant (<c>licensing sign code</c>).</param>
public sealed record AddLicenseRequest(string Grant, DistributionRequest? Distribution = null);

/// <summary>Distribution criteria: exactly one of explicit shares, weights or even; thresholds optional.</summary>
public sealed record DistributionRequest(
    IReadOnlyDictionary<string, int>? Shares = null,
    IReadOnlyDictionary<string, int>? Weights = null,
    bool Even = false,
    double? DefaultThreshold = null,
    IReadOnlyDictionary<string, double>? Thresholds = null,
    int FreePoolReserve = 0);

public sealed record LicenseInfo(
    string Code,
    string Product,
    int Seats,
    DateTimeOffset? ExpiresAt,
    int FreePool,
    long Version,
    string Leader,
    IReadOnlyList<ServerShareInfo> Servers,
    bool Trial = false,
    OfflineBorrowInfo? OfflineBorrow = null);

/// <summary>A code's offline borrow policy (<see cref="MaxDuration"/> is ISO 8601) and the seats borrowed now, pool-wide.</summary>
public sealed record OfflineBorrowInfo(int MaxCount, string MaxDuration, long Version, int Borrowed, string? Linger = null);

/// <summary>The pool: the id grants must name, which vendor keys sign seats ("configured keys", "vendor keys", "trial keys"), trial seats.</summary>
public sealed record PoolInfo(string PoolId, string Trust, int TrialSeats, int TrialCap);

public sealed record ServerShareInfo(string ServerId, string Status, int Allocated, int InUse, double Threshold, int BaseShare, int Held);

/// <param name="TtlSeconds">Seconds until the lease expires, counted by the server from its answer (null from an older server).</param>
/// <param name="RenewAfterSeconds">Seconds until the next heartbeat is due, counted the same way.</param>
public sealed record LeaseInfo(
    string LeaseId, string Code, string ClientId, int Count, string ServerId, DateTimeOffset ExpiresAt, DateTimeOffset RenewAfter,
    double? TtlSeconds = null, double? RenewAfterSeconds = null, bool Borrowed = false);

public sealed record ServerInfo(string ServerId, string Status, string Address, bool Self);

internal sealed record AddAllocationsBody(string Grant);

/// <summary>Who holds a lease, as administrators see it: each part optional.</summary>
public sealed record LeaseOwnerInfo(string? User = null, string? Host = null, string? DisplayName = null);

internal sealed record OfflineBorrowPolicyBody(int MaxCount, string MaxDuration);

internal sealed record LingerBody(string Linger);

/// <summary>
/// One lease of the lease list (GET /api/v1/licenses/{code}/leases; licensing leases): <see cref="State"/> is
/// <c>active</c>, <c>held-for-failover</c> (its server is down; the leader holds its seat) or, as a release's answer, <c>released</c>.
/// </summary>
public sealed record LeaseSummaryInfo(
    string LeaseId, string? ClientId, int Count, string ServerId, DateTimeOffset ExpiresAt,
    string? User = null, string? Host = null, string? DisplayName = null, DateTimeOffset? CheckedOutAt = null, string State = "active",
    bool Borrowed = false);

internal sealed record ReleaseBody(string? Reason);

internal sealed record CheckoutBody(string ClientId, int Count, string? LeaseId, string? User = null, string? Host = null, string? DisplayName = null, string? BorrowFor = null);

internal sealed record HeartbeatBody(string ClientId, int Count, string ServerId, string? User = null, string? Host = null, string? DisplayName = null);

/// <summary>RFC 7807 problem details as the server sends them; <see cref="Error"/> is the stable error code.</summary>
public sealed record ProblemInfo(string? Type, string? Title, int? Status, string? Detail, string? Error);
