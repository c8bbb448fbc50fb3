namespace Orleans.Licensing;

/// <summary>The sizes every door checks (REST, grants, grains): one home, so that the doors cannot disagree.</summary>
public static class Limits
{
    /// <summary>Seats of one license code, and the most allocations one request may name.</summary>
    public const int MaxSeats = 100_000_000;

    public const int MaxCodeLength = 200;

    public const int MaxServerIdLength = 200;

    public const int MaxLeaseIdLength = 128;

    public const int MaxClientIdLength = 256;

    /// <summary>Each part of a lease's owner (user, host, display name).</summary>
    public const int MaxOwnerPartLength = 256;

    /// <summary>The reason an administrator gives for releasing a lease.</summary>
    public const int MaxReasonLength = 500;
}
