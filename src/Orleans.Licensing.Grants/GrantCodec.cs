using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Orleans.Licensing.Grants;

/// <summary>
/// The grant string: <c>olg1.&lt;payload&gt;.&lt;signature&gt;</c>, both Base64url; the signature covers the ASCII bytes
/// of <c>olg1.&lt;payload&gt;</c>, so nothing of it can change without the signature failing.
/// </summary>
public static class GrantCodec
{
    public const string Prefix = "olg1";

    /// <summary>Grants are short; anything longer is refused before it is decoded.</summary>
    public const int MaxLength = 8192;

    public const int MaxSeats = 100_000_000;

    /// <summary>
    /// How long after its issue an allocations grant may be applied at most: a copy of a pool's database made before
    /// the grant was applied can apply it again only until then (docs/security.md, restores and copies).
    /// </summary>
    public static readonly TimeSpan MaxApplyWindow = TimeSpan.FromDays(30);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        AllowDuplicateProperties = false,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
    };

    public static string Sign(Grant grant, VendorSigningKey key)
    {
        if (grant.KeyId != key.KeyId) throw new ArgumentException($"The grant names key '{grant.KeyId}', not '{key.KeyId}'.", nameof(grant));
        Check(grant);
        var signed = $"{Prefix}.{Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(grant, Json))}";
        return $"{signed}.{Base64Url.EncodeToString(key.Sign(Encoding.ASCII.GetBytes(signed)))}";
    }

    /// <summary>The grant, if <paramref name="text"/> is well formed and signed by a key of <paramref name="trusted"/> valid at <paramref name="now"/>.</summary>
    /// <exception cref="GrantException">The grant is refused; nothing may be applied.</exception>
    public static Grant Verify(string? text, IEnumerable<TrustedVendorKey> trusted, DateTimeOffset now) => VerifyKey(text, trusted, now).Grant;

    /// <summary>As <see cref="Verify"/>, with the key that signed it (whether it is a trial key).</summary>
    public static (Grant Grant, TrustedVendorKey Key) VerifyKey(string? text, IEnumerable<TrustedVendorKey> trusted, DateTimeOffset now)
    {
        var (grant, signed, signature) = Parse(text);
        var key = trusted.FirstOrDefault(k => k.Id == grant.KeyId)
            ?? throw new GrantException(GrantErrors.UntrustedKey, $"The grant is signed with key '{grant.KeyId}', which this server does not trust.");
        if (!key.Verify(signed, signature)) throw new GrantException(GrantErrors.Signature, "The grant's signature does not verify: it was forged or changed.");
        if (key.NotAfter is { } notAfter && notAfter <= now)
            throw new GrantException(GrantErrors.UntrustedKey, $"Key '{key.Id}' was trusted until {notAfter:O}.");
        if (grant.ExpiresAt is { } expires && expires <= now) throw new GrantException(GrantErrors.Expired, $"The grant expired at {expires:O}.");
        return (grant, key);
    }

    /// <summary>The fields of a grant, NOT verified: only for a grant the leader already accepted (what to log).</summary>
    public static Grant Decode(string text) => Parse(text).Grant;

    private static (Grant Grant, byte[] Signed, byte[] Signature) Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw Malformed("A grant is required.");
        text = text.Trim();
        if (text.Length > MaxLength) throw Malformed($"A grant is at most {MaxLength} characters.");
        var parts = text.Split('.');
        if (parts.Length != 3 || parts[0] != Prefix) throw Malformed($"A grant has the form {Prefix}.<payload>.<signature>.");
        if (!Base64Url.IsValid(parts[1]) || !Base64Url.IsValid(parts[2])) throw Malformed("A grant's payload and signature are Base64url.");

        Grant? grant;
        try
        {
            grant = JsonSerializer.Deserialize<Grant>(Base64Url.DecodeFromChars(parts[1]), Json);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            throw Malformed($"A grant's payload is not valid JSON: {e.Message}");
        }

        Check(grant ?? throw Malformed("A grant's payload is a JSON object."));
        return (grant, Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), Base64Url.DecodeFromChars(parts[2]));
    }

    private static void Check(Grant grant)
    {
        static bool Text(string? s, int max) => !string.IsNullOrWhiteSpace(s) && s.Length <= max && !s.Any(char.IsControl);
        if (!Text(grant.GrantId, 128)) throw Malformed("grantId must be 1 to 128 characters.");
        if (!Text(grant.KeyId, 128)) throw Malformed("keyId must be 1 to 128 characters.");
        if (!Text(grant.Code, 200) || grant.Code.Contains('/')) throw Malformed("code must be 1 to 200 characters with no '/'.");
        if (!Text(grant.PoolId, 128)) throw Malformed("poolId must be 1 to 128 characters: a grant names the pool it is for (licensing pool shows it).");
        switch (grant.Kind)
        {
            case GrantKinds.LicenseCode:
                if (!Text(grant.Product, 200)) throw Malformed("A license code grant needs a product of 1 to 200 characters.");
                if (grant.Seats is not (>= 1 and <= MaxSeats) || grant.Count is not null)
                    throw Malformed($"A license code grant needs seats between 1 and {MaxSeats} and no count.");
                break;
            case GrantKinds.Allocations:
                if (grant.Count is not (>= 1 and <= MaxSeats) || grant.Seats is not null || grant.Product is not null)
                    throw Malformed($"An allocations grant needs a count between 1 and {MaxSeats}, no seats and no product.");
                if (grant.ExpiresAt is not { } applyBy || applyBy <= grant.IssuedAt || applyBy - grant.IssuedAt > MaxApplyWindow)
                    throw Malformed($"An allocations grant needs expiresAt, after issuedAt and at most {MaxApplyWindow.TotalDays:0} days after it.");
                break;
            default:
                throw Malformed($"kind must be '{GrantKinds.LicenseCode}' or '{GrantKinds.Allocations}'.");
        }
    }

    private static GrantException Malformed(string message) => new(GrantErrors.Malformed, message);
}
