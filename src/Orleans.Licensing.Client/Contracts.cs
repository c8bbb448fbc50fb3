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
public sealed record OfflineBorrowInfo(int MaxCount, string MaxDuration, long Version, int Borrowed);

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

internal sealed record CheckoutBody(string ClientId, int Count, string? LeaseId, string? BorrowFor = null);

internal sealed record OfflineBorrowPolicyBody(int MaxCount, string MaxDuration);

internal sealed record HeartbeatBody(string ClientId, int Count, string ServerId);

/// <summary>RFC 7807 problem details as the server sends them; <see cref="Error"/> is the stable error code.</summary>
public sealed record ProblemInfo(string? Type, string? Title, int? Status, string? Detail, string? Error);
