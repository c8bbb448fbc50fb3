namespace Orleans.Licensing;

/// <summary>
/// The linger rule (FlexNet LINGER, RLM min_checkout), pure: a checked-in lease keeps its seat until
/// <c>check-in time + linger</c> (FlexNet's meaning: the license stays checked out for the linger time after the
/// application checks it in). An offline borrow never lingers: its check-in is its early return.
/// </summary>
internal static class LingerRule
{
    /// <summary>Why a linger is invalid, or null: 0 (off) up to <see cref="OfflineBorrowPolicy.LingerCeiling"/>.</summary>
    public static string? Invalid(TimeSpan linger) =>
        linger < TimeSpan.Zero || linger > OfflineBorrowPolicy.LingerCeiling
            ? $"The linger must be between 0 (off) and {OfflineBorrowPolicy.LingerCeiling.TotalHours:0} hours."
            : null;

    /// <summary>The next policy with <paramref name="linger"/>. Throws <c>invalid-request</c> and changes nothing when invalid.</summary>
    public static OfflineBorrowPolicy Set(OfflineBorrowPolicy policy, TimeSpan linger)
    {
        if (Invalid(linger) is { } why) throw new LicensingException(LicensingErrors.InvalidRequest, why);
        return policy with { Linger = linger, Version = policy.Version + 1 };
    }

    /// <summary>
    /// The lease as it lingers after a check-in at <paramref name="now"/>, or null when its seat is free at once: no
    /// linger, an offline borrow, or a lease already lingering (a second check-in does not extend it).
    /// </summary>
    public static LeaseRecord? Lingered(LeaseRecord lease, TimeSpan linger, DateTimeOffset now) =>
        linger <= TimeSpan.Zero || lease.Borrowed || lease.Lingering ? null : lease with { ExpiresAt = now + linger, Lingering = true };

    /// <summary>The usage log's detail of the check-in of a lingering lease.</summary>
    public static string CheckinDetail(LeaseRecord lingering) => $"lingers until {lingering.ExpiresAt:O}";

    /// <summary>The usage log's detail of the end of a linger.</summary>
    public const string EndedDetail = "linger ended";
}
