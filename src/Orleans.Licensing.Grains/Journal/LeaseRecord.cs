namespace Orleans.Licensing;

/// <summary>A lease as stored: the compact form of <see cref="Lease"/>.</summary>
/// <param name="CheckedOutAt">When it was first granted; kept on renewals. Null in leases stored before it was kept.</param>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.LeaseRecord")]
public sealed record LeaseRecord(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] int Count,
    [property: Id(3)] DateTimeOffset ExpiresAt,
    [property: Id(4)] LeaseOwner? Owner = null,
    [property: Id(5)] DateTimeOffset? CheckedOutAt = null)
{
    /// <summary>An offline borrow: <see cref="ExpiresAt"/> is the borrow's end, and no heartbeat moves it.</summary>
    [Id(6)] public bool Borrowed { get; init; }

    /// <summary>Checked in, and its seat stays taken until <see cref="ExpiresAt"/> (LINGER): no heartbeat, no fail-over.</summary>
    [Id(7)] public bool Lingering { get; init; }
}
