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

    /// <summary>The offline borrow policy and permits (pool-wide: one leader per code counts them).</summary>
    [Id(9)] public OfflineBorrowState OfflineBorrows { get; set; } = new();
}
