using Orleans.Licensing.Grants;

namespace Orleans.Licensing;

/// <summary>An <see cref="IGrantVerifier"/> over keys given by the caller (a fixed list, or the server's current ones).</summary>
public sealed class TrustedKeysVerifier(TrustMode mode, Func<IReadOnlyList<TrustedVendorKey>> keys) : IGrantVerifier
{
    public TrustedKeysVerifier(TrustMode mode, IReadOnlyList<TrustedVendorKey> keys) : this(mode, () => keys)
    {
    }

    /// <summary>What a silo trusts when nothing else is registered: no key, so no grant applies.</summary>
    public static TrustedKeysVerifier None { get; } = new(TrustMode.ConfiguredKeys, []);

    public TrustMode Mode => mode;

    public VerifiedGrant Verify(string? text, DateTimeOffset now)
    {
        try
        {
            var (grant, key) = GrantCodec.VerifyKey(text, keys(), now);
            return new VerifiedGrant(grant, key.Trial);
        }
        catch (GrantException e)
        {
            throw new LicensingException(e.Error, e.Message);
        }
    }
}
