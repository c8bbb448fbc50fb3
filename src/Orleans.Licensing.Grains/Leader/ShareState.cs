namespace Orleans.Licensing;

/// <summary>One license server's row in the leader's table: what it manages, whether it is down, what is held for its clients.</summary>
[GenerateSerializer, Alias("Orleans.Licensing.ShareState")]
public sealed class ShareState
{
    [Id(0)] public int Allocated { get; set; }
    [Id(1)] public int InUse { get; set; }
    [Id(2)] public double Threshold { get; set; }
    [Id(3)] public int BaseShare { get; set; }
    [Id(4)] public bool Down { get; set; }

    /// <summary>While down: its leases that live clients may still fail over with, by lease id.</summary>
    [Id(5)] public Dictionary<string, HeldLease> Held { get; set; } = [];

    /// <summary>The silo address it rejoined from, until membership shows that silo active.</summary>
    [Id(6)] public string? RejoinedFrom { get; set; }

    /// <summary>
    /// The leader fenced its journal: it acknowledges nothing until it rejoins through the leader, whatever membership
    /// says of it (a paused or partitioned server may look alive while its allocations are counted elsewhere).
    /// </summary>
    [Id(7)] public bool Fenced { get; set; }

    /// <summary>Down, but its leases could not be read: everything it has is held until they can be.</summary>
    [Id(8)] public bool Unread { get; set; }

    public int HeldCount(DateTimeOffset now) => Unread ? Allocated : Held.Values.Where(h => h.ExpiresAt > now).Sum(h => h.Count);

    /// <summary>A down server's allocations that back no live lease: a source at once.</summary>
    public int DownUnused(DateTimeOffset now) => Down ? Math.Max(0, Allocated - HeldCount(now)) : 0;
}
