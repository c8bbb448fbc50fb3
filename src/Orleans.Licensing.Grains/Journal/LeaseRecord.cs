namespace Orleans.Licensing;

/// <summary>A lease as stored: the compact form of <see cref="Lease"/>.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.LeaseRecord")]
public sealed record LeaseRecord(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] int Count,
    [property: Id(3)] DateTimeOffset ExpiresAt)
{
    /// <summary>An offline borrow: <see cref="ExpiresAt"/> is the borrow's end, and no heartbeat moves it.</summary>
    [Id(6)] public bool Borrowed { get; init; }
}
