namespace Orleans.Licensing;

/// <summary>A vendor-issued grant: product or feature, concurrent seats, optional expiry.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.LicenseCode")]
public sealed record LicenseCode(
    [property: Id(0)] string Code,
    [property: Id(1)] string Product,
    [property: Id(2)] int Seats,
    [property: Id(3)] DateTimeOffset? ExpiresAt = null)
{
    public bool IsExpired(DateTimeOffset now) => ExpiresAt is { } at && at <= now;
}
