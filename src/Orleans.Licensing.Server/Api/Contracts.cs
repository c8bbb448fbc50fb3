namespace Orleans.Licensing.Server.Api;

// The JSON shapes of REST API v1. They are the public HTTP contract: add members, never rename or remove them.

/// <summary>
/// Add a license code (claim 11): <see cref="Grant"/> is the vendor-signed license code grant (code, product, seats,
/// expiry). Without a distribution the seats are split evenly among the servers.
/// </summary>
/// <remarks>Before signed grants, the body carried code, product and seats itself; those members are now refused.</remarks>
public sealed record AddLicenseRequest(string? Grant, DistributionRequest? Distribution = null);

/// <summary>Add allocations (claim 9): <see cref="Grant"/> is a vendor-signed allocations grant; they go to the free pool.</summary>
public sealed record AddAllocationsRequest(string? Grant);

/// <summary>
/// A lease as the lease list shows it (licensing leases; lmstat, rlmstat): a live lease at a server that is up
/// (<see cref="State"/> <c>active</c>), or one the leader holds a seat for while its server is down
/// (<c>held-for-failover</c>: its client may still fail over with it; no owner or grant time is known there).
/// </summary>
/// <param name="CheckedOutAt">When the lease was first granted at its server (null: not known).</param>
/// <param name="Borrowed">An offline borrow: held until <paramref name="ExpiresAt"/> without heartbeats.</param>
public sealed record LeaseSummary(
    string LeaseId, string? ClientId, int Count, string ServerId, DateTimeOffset ExpiresAt,
    string? User = null, string? Host = null, string? DisplayName = null, DateTimeOffset? CheckedOutAt = null, string State = LeaseStates.Active,
    bool Borrowed = false)
{
    public static LeaseSummary From(Lease l) =>
        new(l.LeaseId, l.ClientId, l.Count, l.ServerId, l.ExpiresAt, l.Owner?.User, l.Owner?.Host, l.Owner?.DisplayName, l.CheckedOutAt, l.Lingering ? LeaseStates.Lingering : LeaseStates.Active, l.Borrowed);

    public static LeaseSummary From(HeldLeaseView h) => new(h.LeaseId, h.ClientId, h.Count, h.ServerId, h.HeldUntil, State: LeaseStates.HeldForFailover);
}

/// <summary>The states of <see cref="LeaseSummary.State"/>.</summary>
public static class LeaseStates
{
    public const string Active = "active";
    public const string HeldForFailover = "held-for-failover";

    /// <summary>Checked in, its seat held until the code's linger ends.</summary>
    public const string Lingering = "lingering";
    public const string Released = "released";
}

/// <summary>Release a lease (admin; lmremove, rlmremove): the reason goes to the audit row of the usage log.</summary>
public sealed record ReleaseBody(string? Reason = null);

/// <summary>
/// Distribution criteria (claim 7): exactly one of explicit <see cref="Shares"/> per server, <see cref="Weights"/>, or
/// <see cref="Even"/>; thresholds are optional. What is not distributed stays in the free pool.
/// </summary>
public sealed record DistributionRequest(
    IReadOnlyDictionary<string, int>? Shares = null,
    IReadOnlyDictionary<string, int>? Weights = null,
    bool Even = false,
    double? DefaultThreshold = null,
    IReadOnlyDictionary<string, double>? Thresholds = null,
    int FreePoolReserve = 0)
{
    public DistributionCriteria ToCriteria() => new(Shares, Weights, Even, DefaultThreshold, Thresholds, FreePoolReserve);
}

/// <summary>
/// A request for authorization. <see cref="LeaseId"/> is optional: a client that sends its own can retry safely.
/// <see cref="User"/>, <see cref="Host"/> and <see cref="DisplayName"/> say who holds the lease (shown to administrators).
/// </summary>
/// <param name="BorrowFor">An offline borrow: an ISO 8601 duration ("P3D", "PT8H") the lease is held for without heartbeats.</param>
public sealed record CheckoutBody(string? ClientId, int Count, string? LeaseId = null, string? User = null, string? Host = null, string? DisplayName = null, string? BorrowFor = null);

/// <summary>A license code's offline borrow policy: at most <see cref="MaxCount"/> seats borrowed at once, pool-wide, each for at most <see cref="MaxDuration"/> (ISO 8601, at most P90D).</summary>
public sealed record OfflineBorrowPolicyRequest(int? MaxCount, string? MaxDuration);

/// <summary>PUT /licenses/{code}/linger: how long a checked-in seat stays taken (ISO 8601, "PT0S" = off, at most PT24H).</summary>
public sealed record LingerRequest(string? Linger);

/// <summary>The offline borrow policy as the license view shows it, with the seats borrowed now (pool-wide).</summary>
/// <param name="Version">Grows with each change; 0: the default policy (no borrow allowed).</param>
public sealed record OfflineBorrowResponse(int MaxCount, string MaxDuration, long Version, int Borrowed, string Linger = "PT0S");

/// <summary>
/// A heartbeat. <see cref="ServerId"/> is the server the client believes holds the lease; the owner is sent again so
/// that a server adopting the lease after a fail-over can show it.
/// </summary>
public sealed record HeartbeatBody(string? ClientId, int Count, string? ServerId, string? User = null, string? Host = null, string? DisplayName = null);

/// <param name="TtlSeconds">Seconds from now until <see cref="ExpiresAt"/>, by this server's clock.</param>
/// <param name="RenewAfterSeconds">Seconds from now until <see cref="RenewAfter"/>, by this server's clock.</param>
/// <remarks>
/// Clients schedule from the durations, measured on their own monotonic clock from when they sent the request: a
/// client whose wall clock is off would otherwise renew too late (behind) or in a loop (ahead). The absolute times
/// stay for display and older clients.
/// </remarks>
public sealed record LeaseResponse(
    string LeaseId, string Code, string ClientId, int Count, string ServerId, DateTimeOffset ExpiresAt, DateTimeOffset RenewAfter,
    double TtlSeconds, double RenewAfterSeconds, bool Borrowed = false)
{
    /// <param name="now">This server's clock, the one the lease's server grain set the absolute times by.</param>
    public static LeaseResponse From(Lease l, DateTimeOffset now) => new(
        l.LeaseId, l.Code, l.ClientId, l.Count, l.ServerId, l.ExpiresAt, l.RenewAfter, Seconds(l.ExpiresAt - now), Seconds(l.RenewAfter - now), l.Borrowed);

    // Milliseconds are enough; a moment already past is 0 (renew now / already expired), never negative.
    private static double Seconds(TimeSpan span) => Math.Round(Math.Max(0, span.TotalSeconds), 3);
}

/// <summary>One license code: its seats, free pool, distribution version, current leader, and each server's share.</summary>
/// <param name="Trial">Some of its seats were signed by a trial key (capped: see <see cref="PoolResponse"/>).</param>
public sealed record LicenseResponse(
    string Code,
    string Product,
    int Seats,
    DateTimeOffset? ExpiresAt,
    int FreePool,
    long Version,
    string Leader,
    IReadOnlyList<ServerShareResponse> Servers,
    bool Trial = false,
    OfflineBorrowResponse? OfflineBorrow = null);

/// <summary>The pool (GET /api/v1/pool): the id grants must name, which vendor keys sign seats, and the trial seats.</summary>
/// <param name="Trust">"configured keys" (the open build), "vendor keys" (a vendor build) or "trial keys" (zero setup).</param>
/// <param name="TrialSeats">Seats signed by trial keys so far, across all codes; at most <paramref name="TrialCap"/>.</param>
public sealed record PoolResponse(string PoolId, string Trust, int TrialSeats, int TrialCap);

/// <param name="InUse">Live from the server when it answers, else as last reported to the leader.</param>
/// <param name="Held">For a down server: allocations kept for leases its clients may still fail over with.</param>
public sealed record ServerShareResponse(string ServerId, ServerStatus Status, int Allocated, int InUse, double Threshold, int BaseShare, int Held);

public sealed record ServerResponse(string ServerId, string Status, string Address, bool Self);
