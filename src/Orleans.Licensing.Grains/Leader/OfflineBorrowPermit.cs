namespace Orleans.Licensing;

/// <summary>
/// The leader's record of one offline borrow (by lease id): which server granted it, to whom, how many seats, and its
/// end on the leader's clock. <see cref="Returned"/>: returned at the leader while its server was down; kept until its
/// end so that the server drops the lease when it rejoins.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.OfflineBorrowPermit")]
public sealed record OfflineBorrowPermit(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] int Count,
    [property: Id(3)] DateTimeOffset EndsAt,
    [property: Id(4)] bool Returned = false);
