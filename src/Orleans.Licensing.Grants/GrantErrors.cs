namespace Orleans.Licensing.Grants;

/// <summary>Stable error codes of a refused grant; the REST API returns them as problem types.</summary>
public static class GrantErrors
{
    /// <summary>Not a grant: wrong format, bad Base64 or JSON, missing or out-of-range fields.</summary>
    public const string Malformed = "grant-malformed";

    /// <summary>The signature does not verify: forged, or changed after signing.</summary>
    public const string Signature = "grant-signature";

    /// <summary>Signed with a key this server does not trust, or one past its NotAfter.</summary>
    public const string UntrustedKey = "grant-untrusted-key";

    public const string Expired = "grant-expired";

    /// <summary>The grant id was applied before; nothing was added again.</summary>
    public const string Replayed = "grant-replayed";

    /// <summary>The wrong kind of grant for the request, or a grant for another license code.</summary>
    public const string Mismatch = "grant-mismatch";

    /// <summary>The grant names another pool (its pool id): it was issued for another installation.</summary>
    public const string WrongPool = "grant-wrong-pool";

    /// <summary>Seats signed by a trial key beyond the trial's cap per pool (<see cref="TrialLimit.Seats"/>).</summary>
    public const string TrialLimit = "trial-limit";
}

/// <summary>A grant the server refuses; <see cref="Error"/> is one of <see cref="GrantErrors"/>.</summary>
public sealed class GrantException(string error, string message) : Exception(message)
{
    public string Error { get; } = error;
}
