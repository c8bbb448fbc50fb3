using Orleans.Licensing.Grants;

namespace Orleans.Licensing;

/// <summary>
/// Verifies a grant's text against the vendor keys this silo trusts. The leader calls it on every grant it applies,
/// whoever sent the message (REST, or anyone who reaches the Orleans gateway), so seats come only from trusted keys.
/// The server registers one backed by its trust anchor; without one a silo trusts no key.
/// </summary>
public interface IGrantVerifier
{
    TrustMode Mode { get; }

    /// <summary>The grant, if its signature, key and expiry hold at <paramref name="now"/>.</summary>
    /// <exception cref="LicensingException">A grant error (grant-malformed, grant-signature, grant-untrusted-key, grant-expired).</exception>
    VerifiedGrant Verify(string? text, DateTimeOffset now);
}

/// <summary>A grant whose signature verified, and whether a trial key signed it.</summary>
public sealed record VerifiedGrant(Grant Grant, bool Trial);
