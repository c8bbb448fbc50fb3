namespace Orleans.Licensing;

/// <summary>A vendor-issued grant: product or feature, concurrent seats, optional expiry.</summary>
/// <param name="Trial">Some of its seats were signed by a trial key (the zero-setup local key).</param>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.LicenseCode")]
public sealed record LicenseCode(
    [property: Id(0)] string Code,
    [property: Id(1)] string Product,
    [property: Id(2)] int Seats,
    [property: Id(3)] DateTimeOffset? ExpiresAt = null,
    [property: Id(4)] bool Trial = false)
{
    public bool IsExpired(DateTimeOffset now) => ExpiresAt is { } at && at <= now;
}
