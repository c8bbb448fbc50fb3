namespace Orleans.Licensing.Server.Security;

/// <summary>
/// Configuration section <c>Licensing:Security</c>. Keys can also come from <see cref="KeysFile"/> (same shape, reloaded
/// when it changes: keys rotate without a restart) and, with nothing configured, from keys generated on first start
/// (<see cref="LocalKeys"/>).
/// </summary>
public sealed class SecurityOptions
{
    public const string Section = "Licensing:Security";

    /// <summary>A JSON file <c>{ "ApiKeys": [...], "VendorKeys": [...] }</c>, e.g. a mounted Kubernetes Secret.</summary>
    public string? KeysFile { get; set; }

    /// <summary>
    /// With no API key and no vendor key configured, generate them in the data folder on first start (zero setup for a
    /// single machine). Turn off where keys are provisioned (Kubernetes): the server then refuses to start without keys.
    /// </summary>
    public bool LocalKeys { get; set; } = true;

    public List<ApiKeyEntry> ApiKeys { get; set; } = [];

    public List<VendorKeyEntry> VendorKeys { get; set; } = [];

    public JwtSettings Jwt { get; set; } = new();

    public RateLimitSettings RateLimit { get; set; } = new();

    /// <summary>The most allocations one checkout may ask for.</summary>
    public int MaxCheckoutCount { get; set; } = 10_000;

    /// <summary>
    /// How long a keys file that cannot be read or parsed keeps its last valid keys (<see cref="KeysFile"/>); after it,
    /// the file's keys are dropped and only configured keys work. Default 30 s (docs/security.md: revocation).
    /// </summary>
    public TimeSpan KeysFileGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Refuses settings that would make the server trust more than it should; the message names the setting.</summary>
    public void Validate()
    {
        if (Jwt.Enabled)
        {
            if (string.IsNullOrWhiteSpace(Jwt.Audience))
                throw new InvalidOperationException($"{Section}:Jwt:Audience is required with JWT bearer tokens: without it a token the issuer made for any other application would be accepted.");
            if (string.IsNullOrWhiteSpace(Jwt.Issuer))
                throw new InvalidOperationException($"{Section}:Jwt:Issuer is required with JWT bearer tokens (the issuer's exact 'iss', also with an Authority).");
        }

        if (KeysFileGrace < TimeSpan.Zero) throw new InvalidOperationException($"{Section}:KeysFileGrace must not be negative.");
        if (ApiKeys.FirstOrDefault(k => k.MaxSeats < 0) is { } negative)
            throw new InvalidOperationException($"{Section}:ApiKeys entry '{negative.Id}': MaxSeats must not be negative.");
    }
}

/// <summary>An API key as servers store it: its SHA-256 hash, never the key.</summary>
public sealed class ApiKeyEntry
{
    public string Id { get; set; } = "";

    /// <summary><c>sha256:</c> and the lowercase hex SHA-256 of the key's UTF-8 bytes.</summary>
    public string Hash { get; set; } = "";

    public string Role { get; set; } = "";

    /// <summary>Client role: the client ids the key may hold leases for, an exact id or a prefix ending in '*'.</summary>
    public string? ClientId { get; set; }

    /// <summary>Optional end of validity (rotation: issue the new key, let the old one run out).</summary>
    public DateTimeOffset? NotAfter { get; set; }

    /// <summary>
    /// Client role: the most seats of a code that the leases of the client ids it covers may hold at one server
    /// (<see cref="Orleans.Licensing.SeatCap"/>); past it a checkout is denied <c>credential-seat-cap</c>. Null: no cap.
    /// </summary>
    public int? MaxSeats { get; set; }
}

public sealed class VendorKeyEntry
{
    public string Id { get; set; } = "";

    /// <summary>Base64 of the raw 32-byte Ed25519 public key.</summary>
    public string PublicKey { get; set; } = "";

    public DateTimeOffset? NotAfter { get; set; }
}

/// <summary>JWT bearer tokens from the organisation's issuer, next to API keys. Off unless an authority or a signing key is set.</summary>
public sealed class JwtSettings
{
    /// <summary>The issuer's URL; its OpenID configuration gives the signing keys. <see cref="Issuer"/> is required too.</summary>
    public string? Authority { get; set; }

    /// <summary>Required: this API's audience (the token's <c>aud</c>).</summary>
    public string? Audience { get; set; }

    /// <summary>Required: the expected <c>iss</c>. Without an authority, <see cref="SigningKeyPem"/> gives the key that signs the tokens.</summary>
    public string? Issuer { get; set; }

    public string? SigningKeyPem { get; set; }

    /// <summary>The claim holding the role (<see cref="LicensingRoles"/>).</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The claim holding the client ids a client token covers.</summary>
    public string ClientIdClaim { get; set; } = "client_id";

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(SigningKeyPem);

    /// <summary>The header <c>typ</c> values of an access token: RFC 9068's, and the "JWT" most issuers write.</summary>
    public static readonly IReadOnlyList<string> AccessTokenTypes = ["at+jwt", "application/at+jwt", "JWT"];

    /// <summary>Claims only an OpenID Connect ID token carries (OIDC Core 3.1.3.6, 3.3.2.11): such a token is refused.</summary>
    public static readonly IReadOnlySet<string> IdTokenClaims = new HashSet<string>(StringComparer.Ordinal) { "nonce", "at_hash", "c_hash", "s_hash" };
}

/// <summary>A token bucket per credential on checkout, heartbeat and check-in.</summary>
public sealed class RateLimitSettings
{
    public int PermitsPerSecond { get; set; } = 1000;

    public int Burst { get; set; } = 2000;
}
