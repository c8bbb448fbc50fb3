namespace Orleans.Licensing;

/// <summary>Settings of the license pool (configuration section "Licensing").</summary>
public sealed class LicensingOptions
{
    /// <summary>The grain storage provider that holds every distribution, server record and lease.</summary>
    public const string StorageName = "licensing";

    /// <summary>
    /// The pool id to give a new pool (Licensing:PoolId), so that a vendor can sign its first grant before it runs; used
    /// only when the pool has none yet (a stored pool id never changes). Empty: a random one (docs/security.md).
    /// </summary>
    public string? PoolId { get; set; }

    /// <summary>How long a lease lives without a heartbeat.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a server removes expired leases and reports its usage to the leader.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a server asks the leader whether it missed a distribution criteria sync.</summary>
    public TimeSpan SyncCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the leader re-distributes idle surplus (claim 32); zero turns the timer off.</summary>
    public TimeSpan RedistributeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long the leader waits for a server to give allocations up. A server that does not answer in time gives
    /// nothing and is not asked again for three times this long (a crashed server is usually not declared dead yet).
    /// </summary>
    public TimeSpan GiveUpTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a server denies checkouts locally after the leader found no source, while its distribution has not changed
    /// (see <c>NoSourceVerdict</c>). Zero asks the leader for every denial.
    /// </summary>
    public TimeSpan DenialHold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Borrowing threshold for servers the distribution criteria do not name.</summary>
    public double DefaultThreshold { get; set; } = 0.8;

    /// <summary>The least a server borrows at once; larger values mean fewer calls to the leader.</summary>
    public int MinBorrow { get; set; } = 1;

    /// <summary>
    /// Leases of one server and license code are kept in this many storage records, so that a change rewrites one
    /// page, not every lease. Fixed for a server record once it is first written.
    /// </summary>
    public int LeasePages { get; set; } = 16;

    /// <summary>
    /// Journal slots of one server and license code: a commit writes one slot; the lease pages and the record are
    /// brought up to date every half of this many commits. Fixed for a server record once it is first written.
    /// </summary>
    public int JournalSlots { get; set; } = 64;
}
