namespace Orleans.Licensing;

/// <summary>What a license server knows of one license code: its record of allocations (claim 33) and its leases.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.ServerView")]
public sealed record ServerView(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string Code,
    [property: Id(2)] int Allocated,
    [property: Id(3)] int InUse,
    [property: Id(4)] double Threshold,
    [property: Id(5)] long AppliedVersion,
    [property: Id(6)] IReadOnlyList<Lease> Leases,
    [property: Id(7)] int Borrows,
    [property: Id(8)] int AdoptionCalls = 0);

/// <summary>A server's allocations and usage of one license code, without its leases.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.ServerUsage")]
public sealed record ServerUsage(
    [property: Id(0)] string ServerId,
    [property: Id(1)] int Allocated,
    [property: Id(2)] int InUse,
    [property: Id(3)] int Leases,
    [property: Id(4)] long AppliedVersion);

/// <summary>The outcome of a checkout: a lease, or the reason none could be granted.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.CheckoutResult")]
/// <param name="DeniedError">The stable error of a denial (<see cref="LicensingErrors"/>); null: no allocation.</param>
public sealed record CheckoutResult(
    [property: Id(0)] Lease? Lease,
    [property: Id(1)] string? DeniedReason,
    [property: Id(2)] string? DeniedError = null)
{
    public bool Granted => Lease is not null;
}
