namespace Orleans.Licensing;

/// <summary>One client's authorization to use <see cref="Count"/> allocations until <see cref="ExpiresAt"/>.</summary>
/// <param name="ServerId">The license server that holds the lease now.</param>
/// <param name="RenewAfter">When the client should send its next heartbeat.</param>
/// <param name="Owner">Who the client says it is (display data: user, host, display name).</param>
/// <param name="CheckedOutAt">When the lease was first granted at the server that holds it; null: not known (stored before it was kept).</param>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.Lease")]
public sealed record Lease(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string Code,
    [property: Id(2)] string ClientId,
    [property: Id(3)] int Count,
    [property: Id(4)] string ServerId,
    [property: Id(5)] DateTimeOffset ExpiresAt,
    [property: Id(6)] DateTimeOffset RenewAfter,
    [property: Id(7)] LeaseOwner? Owner = null,
    [property: Id(8)] DateTimeOffset? CheckedOutAt = null)
{
    /// <summary>An offline borrow: held until <see cref="ExpiresAt"/> without heartbeats (docs/admin/offline-borrow.md).</summary>
    [Id(9)] public bool Borrowed { get; init; }

    /// <summary>Checked in; its seat stays taken until <see cref="ExpiresAt"/> (the code's linger, docs/admin/linger.md).</summary>
    [Id(10)] public bool Lingering { get; init; }
}

/// <summary>A client's request for authorization (a checkout). A retried request with the same lease id is granted once.</summary>
/// <param name="Cap">The calling credential's seat cap at this server, if it has one.</param>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.CheckoutRequest")]
public sealed record CheckoutRequest(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] int Count,
    [property: Id(3)] SeatCap? Cap = null,
    [property: Id(4)] LeaseOwner? Owner = null)
{
    /// <summary>An offline borrow: the lease is held for this long without heartbeats, within the code's policy.</summary>
    [Id(5)] public TimeSpan? BorrowFor { get; init; }
}

/// <summary>
/// A client's heartbeat for a lease. <see cref="ServerId"/> is the server the client believes holds it; when a
/// client sends it to another server it is in fail-over mode and that server adopts the lease. <see cref="Owner"/> is
/// sent with every heartbeat so that an adopter can show who holds the lease; it is display data, never counted.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.LeaseUpdate")]
public sealed record LeaseUpdate(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] int Count,
    [property: Id(3)] string ServerId,
    [property: Id(4)] LeaseOwner? Owner = null);
