namespace Orleans.Licensing;

/// <summary>Whether the leader currently counts a license server as functioning.</summary>
public enum ServerStatus
{
    Up = 0,
    Down = 1,
}

/// <summary>One license server's row of the distribution.</summary>
/// <param name="Allocated">Allocations this server manages.</param>
/// <param name="InUse">Allocations in use, as last reported to the leader.</param>
/// <param name="BaseShare">The share the distribution criteria give it; surplus above it is re-distributed.</param>
/// <param name="Held">Allocations of a down server that back leases of live clients (kept for fail-over).</param>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.ServerShare")]
public sealed record ServerShare(
    [property: Id(0)] string ServerId,
    [property: Id(1)] int Allocated,
    [property: Id(2)] int InUse,
    [property: Id(3)] double Threshold,
    [property: Id(4)] int BaseShare,
    [property: Id(5)] ServerStatus Status,
    [property: Id(6)] int Held);

/// <summary>
/// The distribution of allocations of one license code: what each server manages plus the free pool.
/// Invariant: Σ Allocated + FreePool = Total.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.Distribution")]
public sealed record Distribution(
    [property: Id(0)] LicenseCode License,
    [property: Id(1)] int Total,
    [property: Id(2)] int FreePool,
    [property: Id(3)] long Version,
    [property: Id(4)] IReadOnlyList<ServerShare> Servers,
    [property: Id(5)] string LeaderServerId)
{
    /// <summary>The code's offline borrow policy and the seats borrowed now (null from a leader that predates it).</summary>
    [Id(6)] public OfflineBorrowView? OfflineBorrow { get; init; }

    public ServerShare? this[string serverId] => Servers.FirstOrDefault(s => s.ServerId == serverId);

    public int AllocatedSum => Servers.Sum(s => s.Allocated);
}
