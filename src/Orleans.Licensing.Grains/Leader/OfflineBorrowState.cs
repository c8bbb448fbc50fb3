namespace Orleans.Licensing;

/// <summary>A license code's offline borrows at the leader: the policy and the permits (<see cref="OfflineBorrowBook"/>).</summary>
[GenerateSerializer, Alias("Orleans.Licensing.OfflineBorrowState")]
public sealed class OfflineBorrowState
{
    [Id(0)] public OfflineBorrowPolicy Policy { get; set; } = OfflineBorrowPolicy.Off;

    /// <summary>By lease id, until each borrow's end.</summary>
    [Id(1)] public Dictionary<string, OfflineBorrowPermit> Permits { get; set; } = [];
}
