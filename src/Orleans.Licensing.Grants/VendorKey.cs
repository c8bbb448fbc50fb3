using System.Text.Json;
using NSec.Cryptography;

namespace Orleans.Licensing.Grants;

/// <summary>
/// A vendor's Ed25519 signing key: Ed25519 signatures are deterministic (no per-signature nonce to get wrong, unlike
/// ECDSA) and its keys are 32 bytes, short enough for a configuration value.
/// </summary>
public sealed class VendorSigningKey : IDisposable
{
    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;
    private readonly Key _key;

    private VendorSigningKey(string keyId, Key key)
    {
        KeyId = keyId;
        _key = key;
    }

    public string KeyId { get; }

    /// <summary>The public half as servers are configured with it: Base64 of the raw 32 bytes.</summary>
    public string PublicKey => Convert.ToBase64String(_key.PublicKey.Export(KeyBlobFormat.RawPublicKey));

    public static VendorSigningKey Create(string? keyId = null) =>
        new(keyId ?? $"vendor-{DateTime.UtcNow:yyyyMMdd}-{Guid.NewGuid().ToString("N")[..8]}",
            Key.Create(Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    public byte[] Sign(ReadOnlySpan<byte> data) => Algorithm.Sign(_key, data);

    /// <summary>The key file: JSON with the key id, the private key (raw 32-byte seed) and the public key, Base64.</summary>
    public string ToJson() => JsonSerializer.Serialize(new KeyFile(KeyId, Convert.ToBase64String(_key.Export(KeyBlobFormat.RawPrivateKey)), PublicKey), KeyFile.Options);

    public static VendorSigningKey FromJson(string json)
    {
        KeyFile? file;
        try
        {
            file = JsonSerializer.Deserialize<KeyFile>(json, KeyFile.Options);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Not a vendor key file: {e.Message}", e);
        }

        if (file is not { KeyId.Length: > 0, PrivateKey.Length: > 0 }) throw new FormatException("A vendor key file needs keyId and privateKey.");
        var key = Key.Import(Algorithm, Convert.FromBase64String(file.PrivateKey), KeyBlobFormat.RawPrivateKey,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return new VendorSigningKey(file.KeyId, key);
    }

    public static VendorSigningKey Load(string path) => FromJson(File.ReadAllText(path));

    public void Dispose() => _key.Dispose();

    private sealed record KeyFile(string KeyId, string PrivateKey, string? PublicKey)
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    }
}

/// <summary>
/// A vendor public key a server trusts, until <see cref="NotAfter"/> (rotation: trust old and new for a while). Seats
/// signed by a <see cref="Trial"/> key (the zero-setup local key) count against the trial cap.
/// </summary>
public sealed record TrustedVendorKey(string Id, string PublicKey, DateTimeOffset? NotAfter = null, bool Trial = false)
{
    internal bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        byte[] raw;
        try
        {
            raw = Convert.FromBase64String(PublicKey);
        }
        catch (FormatException)
        {
            return false;
        }

        return NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, raw, KeyBlobFormat.RawPublicKey, out var key)
            && key is not null && SignatureAlgorithm.Ed25519.Verify(key, data, signature);
    }
}
