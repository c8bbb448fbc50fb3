using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Licensing;
using Orleans.Licensing.Grants;
using Orleans.Licensing.Server.Security;

namespace Orleans.Licensing.Server.UnitTests;

/// <summary>
/// A vendor build: this test assembly is built with LicensingVendorKeysFile (the server's VendorKeys.targets), so it
/// carries a pinned key as a server built so would. The server's verifier, given these pinned keys and configured ones,
/// lets only the pinned key sign seats; configuration may retire it, never add a key.
/// </summary>
public sealed class VendorBuildTests
{
    private static readonly VendorSigningKey Pinned = VendorSigningKey.Load(Path.Combine(AppContext.BaseDirectory, "VendorBuild", "pinned-test-vendor.key"));
    private static readonly VendorSigningKey Configured = VendorSigningKey.Create("configured-vendor");

    private static string Grant(VendorSigningKey key) =>
        GrantCodec.Sign(Orleans.Licensing.Grants.Grant.ForLicenseCode(key.KeyId, "pool-a", "CAD", "CAD", 5, DateTimeOffset.UtcNow), key);

    private static VendorTrust Trust(PinnedVendorKeys pinned, params (string Id, string PublicKey, DateTimeOffset? NotAfter)[] configured)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < configured.Length; i++)
        {
            settings[$"Licensing:Security:VendorKeys:{i}:Id"] = configured[i].Id;
            settings[$"Licensing:Security:VendorKeys:{i}:PublicKey"] = configured[i].PublicKey;
            if (configured[i].NotAfter is { } notAfter) settings[$"Licensing:Security:VendorKeys:{i}:NotAfter"] = notAfter.ToString("O");
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new VendorTrust(new KeyRing(configuration, NullLogger<KeyRing>.Instance), pinned, NullLogger<VendorTrust>.Instance);
    }

    [Fact]
    public void The_build_carries_the_pinned_key_of_its_keys_file()
    {
        var pinned = PinnedVendorKeys.From(typeof(VendorBuildTests).Assembly);
        var key = Assert.Single(pinned.Keys);
        Assert.Equal((Pinned.KeyId, Pinned.PublicKey), (key.Id, key.PublicKey));

        // The server assembly of this repository is the open build: nothing pinned.
        Assert.Empty(PinnedVendorKeys.OfThisBuild().Keys);
    }

    [Fact]
    public void In_a_vendor_build_a_configured_key_cannot_sign_seats_and_can_only_retire_a_pinned_one()
    {
        var pinned = PinnedVendorKeys.From(typeof(VendorBuildTests).Assembly);
        var trust = Trust(pinned, (Configured.KeyId, Configured.PublicKey, null));
        Assert.Equal(TrustMode.VendorKeys, trust.Mode);
        Assert.Equal("pinned-test-vendor", trust.Verify(Grant(Pinned), DateTimeOffset.UtcNow).Grant.KeyId);
        var refused = Assert.Throws<LicensingException>(() => trust.Verify(Grant(Configured), DateTimeOffset.UtcNow));
        Assert.Equal(LicensingErrors.GrantUntrustedKey, refused.Error);

        // A configured entry with the pinned id and another public key does not replace it; its NotAfter retires it.
        var retired = Trust(pinned, (Pinned.KeyId, Configured.PublicKey, DateTimeOffset.UtcNow.AddDays(-1)));
        refused = Assert.Throws<LicensingException>(() => retired.Verify(Grant(Pinned), DateTimeOffset.UtcNow));
        Assert.Equal(LicensingErrors.GrantUntrustedKey, refused.Error);
    }

    [Fact]
    public void The_open_build_trusts_configured_keys_and_says_so()
    {
        var trust = Trust(new PinnedVendorKeys([]), (Configured.KeyId, Configured.PublicKey, null));
        Assert.Equal(TrustMode.ConfiguredKeys, trust.Mode);
        Assert.Equal("configured keys", trust.Mode.Describe());
        Assert.False(trust.Verify(Grant(Configured), DateTimeOffset.UtcNow).Trial);
    }

    [Fact]
    public void Local_keys_are_trial_keys_and_pinned_keys_keep_full_trust()
    {
        var configured = new[] { new TrustedVendorKey(Configured.KeyId, Configured.PublicKey) };
        var (mode, keys, _) = TrustAnchor.Resolve([new TrustedVendorKey(Pinned.KeyId, Pinned.PublicKey)], configured, localKeys: true);
        Assert.Equal(TrustMode.TrialKeys, mode);
        Assert.Equal([(Pinned.KeyId, false), (Configured.KeyId, true)], keys.Select(k => (k.Id, k.Trial)).ToList());
        (mode, keys, _) = TrustAnchor.Resolve([], configured, localKeys: true);
        Assert.Equal((TrustMode.TrialKeys, true), (mode, Assert.Single(keys).Trial));
    }

    [Fact]
    public void The_earliest_retirement_wins_and_unpinned_entries_are_ignored()
    {
        Assert.Empty(PinnedVendorKeys.From(typeof(object).Assembly).Keys);
        var (_, keys, ignored) = TrustAnchor.Resolve([new TrustedVendorKey("p", Pinned.PublicKey, DateTimeOffset.UnixEpoch.AddYears(100))],
            [new TrustedVendorKey("p", "", DateTimeOffset.UnixEpoch.AddYears(60)), new TrustedVendorKey("p", "", DateTimeOffset.UnixEpoch.AddYears(80)), new TrustedVendorKey("x", Configured.PublicKey)], localKeys: false);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddYears(60), Assert.Single(keys).NotAfter);
        Assert.Equal(["x"], ignored);
    }
}
