using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// Which vendor keys sign seats, from the pinned keys of a vendor build and the keys configuration holds. Pure: the
/// rules of docs/security.md ("Trust per build") in one place.
/// </summary>
public static class TrustAnchor
{
    /// <param name="pinned">Keys pinned into the build (none: the open build).</param>
    /// <param name="configured">Keys of configuration and the keys file (the local keys file in a trial).</param>
    /// <param name="localKeys">The configured keys are the zero-setup local ones: a trial.</param>
    public static (TrustMode Mode, IReadOnlyList<TrustedVendorKey> Keys, IReadOnlyList<string> Ignored) Resolve(
        IReadOnlyList<TrustedVendorKey> pinned, IReadOnlyList<TrustedVendorKey> configured, bool localKeys)
    {
        // Trial: whatever the local keys file trusts signs capped seats only; pinned keys keep their full trust.
        if (localKeys) return (TrustMode.TrialKeys, [.. pinned, .. configured.Where(c => pinned.All(p => p.Id != c.Id)).Select(c => c with { Trial = true })], []);
        if (pinned.Count == 0) return (TrustMode.ConfiguredKeys, configured, []);

        // A vendor build: an entry naming a pinned key's id may retire it (the earliest NotAfter wins; its public key is
        // not used), any other entry is ignored: configuration never adds a key.
        var keys = pinned.Select(p => p with { NotAfter = Earliest(p.NotAfter, configured.Where(c => c.Id == p.Id).Select(c => c.NotAfter)) }).ToList();
        var ignored = configured.Where(c => pinned.All(p => p.Id != c.Id)).Select(c => c.Id).Distinct().ToList();
        return (TrustMode.VendorKeys, keys, ignored);
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? pinned, IEnumerable<DateTimeOffset?> configured)
    {
        var all = configured.Append(pinned).OfType<DateTimeOffset>().ToList();
        return all.Count == 0 ? null : all.Min();
    }
}
