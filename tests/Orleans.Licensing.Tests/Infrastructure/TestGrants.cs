using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// The test vendor: every test silo trusts <see cref="Vendor"/> (and <see cref="Trial"/> as a trial key); grants for a
/// cluster name its pool id, which the catalog made.
/// </summary>
public static class TestGrants
{
    public static readonly VendorSigningKey Vendor = VendorSigningKey.Create("core-test-vendor");
    public static readonly VendorSigningKey Trial = VendorSigningKey.Create("core-test-trial");
    public static readonly VendorSigningKey Untrusted = VendorSigningKey.Create("core-test-untrusted");

    public static TrustedKeysVerifier Verifier { get; } = new(TrustMode.ConfiguredKeys,
        [new TrustedVendorKey(Vendor.KeyId, Vendor.PublicKey), new TrustedVendorKey(Trial.KeyId, Trial.PublicKey, Trial: true)]);

    public static string Code(string poolId, string code, int seats, string product = "product", DateTimeOffset? expiresAt = null, VendorSigningKey? key = null, string? grantId = null)
    {
        key ??= Vendor;
        return GrantCodec.Sign(Grant.ForLicenseCode(key.KeyId, poolId, code, product, seats, DateTimeOffset.UtcNow, expiresAt, grantId), key);
    }

    public static string Allocations(string poolId, string code, int count, VendorSigningKey? key = null, string? grantId = null)
    {
        key ??= Vendor;
        var now = DateTimeOffset.UtcNow;
        return GrantCodec.Sign(Grant.ForAllocations(key.KeyId, poolId, code, count, now, now.AddDays(1), grantId), key);
    }

    /// <summary>An allocations grant of any count, signed as a vendor's tool never would (it checks what it signs).</summary>
    public static string Forge(string poolId, string code, int count, VendorSigningKey? key = null)
    {
        key ??= Vendor;
        var now = DateTimeOffset.UtcNow;
        return SignPayload(System.Text.Json.JsonSerializer.Serialize(new
        {
            kind = GrantKinds.Allocations, grantId = Guid.NewGuid().ToString("N"), keyId = key.KeyId, code, count,
            issuedAt = now, expiresAt = now.AddDays(1), poolId,
        }), key);
    }

    /// <summary>A grant of exactly this payload, signed by <paramref name="key"/>.</summary>
    public static string SignPayload(string json, VendorSigningKey key)
    {
        var signed = $"{GrantCodec.Prefix}.{System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(json))}";
        return $"{signed}.{System.Buffers.Text.Base64Url.EncodeToString(key.Sign(System.Text.Encoding.ASCII.GetBytes(signed)))}";
    }
}
