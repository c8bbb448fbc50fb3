namespace Orleans.Licensing;

/// <summary>A lease of a down server that the leader keeps a seat for, until its client may no longer renew it.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.HeldLease")]
public sealed record HeldLease([property: Id(0)] int Count, [property: Id(1)] DateTimeOffset ExpiresAt, [property: Id(2)] string? ClientId = null);
