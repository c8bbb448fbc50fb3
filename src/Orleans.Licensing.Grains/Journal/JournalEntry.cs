namespace Orleans.Licensing;

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
