namespace Orleans.Licensing;

/// <summary>Stable error codes, surfaced as problem types by the HTTP API.</summary>
public static class LicensingErrors
{
    public const string UnknownLicense = "unknown-license";
    public const string NoAllocation = "no-allocation";
    public const string LeaseUnknown = "lease-unknown";
    public const string InvalidRequest = "invalid-request";
    public const string Conflict = "conflict";
    public const string LicenseExpired = "license-expired";
    public const string BodyTooLarge = "body-too-large";
    public const string NotFound = "not-found";
    public const string MethodNotAllowed = "method-not-allowed";

    // Security (REST layer): who may call, and how often.
    public const string Unauthenticated = "unauthenticated";
    public const string Forbidden = "forbidden";
    public const string ForbiddenClient = "forbidden-client";
    public const string RateLimited = "rate-limited";

    /// <summary>A checkout denied: the seats of the credential's client ids at this server reached its <c>MaxSeats</c>.</summary>
    public const string CredentialSeatCap = "credential-seat-cap";

    /// <summary>A signed grant (its grant id) was applied before: nothing is added twice.</summary>
    public const string GrantReplayed = "grant-replayed";

    // Grants the leader refuses (the same codes as Orleans.Licensing.Grants.GrantErrors): the leader verifies every
    // grant itself, so a caller of the grains hears these as well as a REST client.
    public const string GrantMalformed = "grant-malformed";
    public const string GrantMismatch = "grant-mismatch";
    public const string GrantSignature = "grant-signature";
    public const string GrantUntrustedKey = "grant-untrusted-key";
    public const string GrantExpired = "grant-expired";

    /// <summary>The grant names another pool id than this pool's.</summary>
    public const string GrantWrongPool = "grant-wrong-pool";

    /// <summary>Seats signed by a trial key beyond the trial's cap per pool.</summary>
    public const string TrialLimit = "trial-limit";

    /// <summary>An administrator released the lease (licensing release): its client must check out again.</summary>
    public const string LeaseReleased = "lease-released";

    /// <summary>The lease's server is down and the leader holds its seat for the client's fail-over: it cannot be released now.</summary>
    public const string LeaseHeld = "lease-held";
    /// <summary>An offline borrow refused by the code's policy: more seats than its max count, or longer than its max duration.</summary>
    public const string BorrowLimit = "borrow-limit";

    /// <summary>The license store failed (for example the database is down): try again, or another server.</summary>
    public const string Unavailable = "unavailable";
}

/// <summary>A request the pool refuses; <see cref="Error"/> is one of <see cref="LicensingErrors"/>. Nothing was changed.</summary>
[GenerateSerializer, Alias("Orleans.Licensing.LicensingException")]
public sealed class LicensingException : Exception
{
    public LicensingException(string error, string message) : base(message) => Error = error;

    [Id(0)]
    public string Error { get; }
}
