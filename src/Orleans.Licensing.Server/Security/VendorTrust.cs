using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// This server's grant verifier: the leaders of its silo and its REST layer check every grant here, against the keys
/// <see cref="TrustAnchor"/> resolves from the build's pinned keys and the keys configuration holds now.
/// </summary>
public sealed partial class VendorTrust(KeyRing ring, PinnedVendorKeys pinned, ILogger<VendorTrust> logger) : IGrantVerifier
{
    private string _ignoredLogged = "";

    public TrustMode Mode => Resolve().Mode;

    public VerifiedGrant Verify(string? text, DateTimeOffset now)
    {
        var (mode, keys, _) = Resolve();
        return new TrustedKeysVerifier(mode, keys).Verify(text, now);
    }

    private (TrustMode Mode, IReadOnlyList<TrustedVendorKey> Keys, IReadOnlyList<string> Ignored) Resolve()
    {
        var resolved = TrustAnchor.Resolve(pinned.Keys, ring.VendorKeys, ring.LocalKeysFile is not null);
        var ignored = string.Join(", ", resolved.Ignored);
        if (ignored.Length > 0 && ignored != _ignoredLogged)
        {
            _ignoredLogged = ignored;
            LogIgnored(ignored);
        }

        return resolved;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "This is a vendor build: it trusts only its pinned vendor keys; the configured vendor keys {Ids} are ignored (configuration may only retire a pinned key, with NotAfter)")]
    private partial void LogIgnored(string ids);
}
