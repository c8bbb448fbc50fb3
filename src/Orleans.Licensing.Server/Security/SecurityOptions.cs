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
    /// <summary>The issuer's URL; its OpenID configuration gives the signing keys.</summary>
    public string? Authority { get; set; }

    public string? Audience { get; set; }

    /// <summary>Without an authority: the expected issuer and a PEM public key (RSA or EC) that signs the tokens.</summary>
    public string? Issuer { get; set; }

    public string? SigningKeyPem { get; set; }

    /// <summary>The claim holding the role (<see cref="LicensingRoles"/>).</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The claim holding the client ids a client token covers.</summary>
    public string ClientIdClaim { get; set; } = "client_id";

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) || !string.IsNullOrWhiteSpace(SigningKeyPem);
}

/// <summary>A token bucket per credential on checkout, heartbeat and check-in.</summary>
public sealed class RateLimitSettings
{
    public int PermitsPerSecond { get; set; } = 1000;

    public int Burst { get; set; } = 2000;
}
