namespace Orleans.Licensing;

/// <summary>
/// A license server's persisted record of one license code (claim 33): the allocations it manages and the distribution
/// version it last applied. Immutable: a change replaces it, so a write in flight never sees a half-made change.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.ServerRecord")]
public sealed record ServerRecord
{
    [Id(0)] public int Allocated { get; init; }
    [Id(1)] public double Threshold { get; init; }
    [Id(2)] public int BaseShare { get; init; }
    [Id(3)] public long AppliedVersion { get; init; }
    [Id(4)] public LicenseCode? License { get; init; }
    [Id(5)] public int LeasePages { get; init; }

    /// <summary>Outcomes of the latest transfers, so that a retried give-up never gives twice.</summary>
    [Id(6)] public IReadOnlyList<TransferResult> RecentTransfers { get; init; } = [];

    /// <summary>The last journal entry this snapshot covers: later entries are replayed on top of it.</summary>
    [Id(7)] public long Sequence { get; init; }

    /// <summary>Number of journal slots (a ring); fixed once the record is first written.</summary>
    [Id(8)] public int JournalSlots { get; init; }

    /// <summary>The storage ETag of every journal slot when this snapshot was taken: the next write of a slot needs it.</summary>
    [Id(9)] public IReadOnlyList<string?> JournalETags { get; init; } = [];
}

/// <summary>
/// One commit of a server grain: the leases it put and removed, and its record when that changed. Each entry is one
/// small write; replaying entries in order over the snapshot gives the state.
/// </summary>
[GenerateSerializer, Alias("Orleans.Licensing.JournalEntry")]
public sealed class JournalEntry
{
    [Id(0)] public long Sequence { get; set; }
    [Id(1)] public List<LeaseRecord> Put { get; set; } = [];
    [Id(2)] public List<string> Removed { get; set; } = [];
    [Id(3)] public ServerRecord? Record { get; set; }

    /// <summary>Written by the leader, not the server: the server's next append fails, so it acknowledges nothing more.</summary>
    [Id(4)] public bool Fence { get; set; }
}

/// <summary>A lease as stored: the compact form of <see cref="Lease"/>.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.LeaseRecord")]
public sealed record LeaseRecord(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] int Count,
    [property: Id(3)] DateTimeOffset ExpiresAt);

/// <summary>One storage record of a server's leases.</summary>
[GenerateSerializer, Alias("Orleans.Licensing.LeasePage")]
public sealed class LeasePage
{
    [Id(0)] public Dictionary<string, LeaseRecord> Leases { get; set; } = [];
}
