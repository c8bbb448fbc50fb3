namespace Orleans.Licensing;

/// <summary>The leader of one license code (key: the license code). The silo hosting it is the current leader server.</summary>
[Alias("Orleans.Licensing.IPoolGrain")]
public interface IPoolGrain : IGrainWithStringKey
{
    [Alias("AddLicenseCode")]
    Task<Distribution> AddLicenseCode(AddLicenseCode message);

    [Alias("AddAllocations")]
    Task<Distribution> AddAllocations(AddAllocations message);

    [Alias("ChangeDistributionCriteria")]
    Task<Distribution> ChangeDistributionCriteria(ChangeDistributionCriteria message);

    /// <summary>A server lacks allocations: find a source and move allocations to it.</summary>
    [Alias("Borrow")]
    Task<BorrowGrant> Borrow(BorrowRequest request);

    /// <summary>A server (re)activates: it gets its row and the leases adopted away from it before it serves.</summary>
    /// <remarks>Interleaves, so that a server activating while the leader awaits it never deadlocks.</remarks>
    [Alias("Rejoin"), AlwaysInterleave]
    Task<DistributionSync?> Rejoin(string serverId, string siloAddress);

    /// <summary>
    /// The latest durable distribution when it is newer than <paramref name="appliedVersion"/>, else null: a server
    /// that missed a sync (one-way messages can be lost with a dying silo) catches up.
    /// </summary>
    [Alias("GetSyncSince"), AlwaysInterleave]
    Task<DistributionSync?> GetSyncSince(long appliedVersion);

    /// <summary>
    /// A license server that is stopping hands its unused allocations back to the free pool before it leaves
    /// (it gives them up first, so nothing is counted twice). Returns how many came back.
    /// </summary>
    [Alias("Release")]
    Task<int> Release(string serverId);

    /// <summary>Move idle surplus of servers back to the free pool (claim 32). Returns how many moved.</summary>
    [Alias("Redistribute")]
    Task<int> Redistribute();

    /// <summary>Membership changed: mark servers down or up.</summary>
    [Alias("RefreshMembership")]
    Task RefreshMembership();

    [Alias("ReportUsage"), OneWay]
    Task ReportUsage(string serverId, int inUse);

    /// <summary>The leases of down servers the leader holds seats for (read-only, for the administrator's lease list).</summary>
    [Alias("GetHeldLeases")]
    Task<IReadOnlyList<HeldLeaseView>> GetHeldLeases();
    /// <summary>Sets the code's offline borrow policy (admin, validated; a leader turn).</summary>
    [Alias("SetOfflineBorrowPolicy")]
    Task<Distribution> SetOfflineBorrowPolicy(SetOfflineBorrowPolicy message);

    /// <summary>Sets the code's linger (admin, validated; a leader turn; the same policy record and version).</summary>
    [Alias("SetLinger")]
    Task<Distribution> SetLinger(SetLinger message);

    /// <summary>A server's permit for an offline borrow, counted pool-wide before it grants (a leader turn; retry-safe by lease id).</summary>
    [Alias("PermitOfflineBorrow")]
    Task<OfflineBorrowPermitAnswer> PermitOfflineBorrow(OfflineBorrowPermitRequest request);

    /// <summary>The server checked the borrow in, or never granted it: its permit goes.</summary>
    [Alias("ReleaseOfflineBorrow")]
    Task ReleaseOfflineBorrow(string leaseId, string serverId);

    /// <summary>
    /// An early return of an offline borrow whose server does not answer: the leader fences it if needed, then frees
    /// the seat it holds for the lease and its permit. False when the lease is no offline borrow of that server and client.
    /// </summary>
    [Alias("ReturnOfflineBorrow")]
    Task<bool> ReturnOfflineBorrow(string leaseId, string clientId, string serverId);

    /// <summary>The distribution, or null when the license code is unknown.</summary>
    [Alias("GetDistribution")]
    Task<Distribution?> GetDistribution();
}
