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
    [Id(6)] public IReadOnlyList<GiveUpResult> RecentGiveUps { get; init; } = [];

    /// <summary>The last journal entry this snapshot covers: later entries are replayed on top of it.</summary>
    [Id(7)] public long Sequence { get; init; }

    /// <summary>Number of journal slots (a ring); fixed once the record is first written.</summary>
    [Id(8)] public int JournalSlots { get; init; }

    /// <summary>The storage ETag of every journal slot when this snapshot was taken: the next write of a slot needs it.</summary>
    [Id(9)] public IReadOnlyList<string?> JournalETags { get; init; } = [];

    /// <summary>
    /// Leases that moved from here to an adopter, until they would expire: a client whose fail-over answer was lost
    /// comes home with one, and the leader (not a 404 from here) decides where it lives. Durable, so a reload keeps it.
    /// </summary>
    [Id(10)] public IReadOnlyDictionary<string, DateTimeOffset> MovedAway { get; init; } = new Dictionary<string, DateTimeOffset>();
}
