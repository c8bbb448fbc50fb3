using System.Security.Cryptography.X509Certificates;

namespace Orleans.Licensing.Server.Hosting;

/// <summary>
/// The name a peer's silo certificate must carry (<see cref="ServerSettings.SiloTlsPeerName"/>): an exact DNS name, or
/// <c>*.suffix</c> for any one label before the suffix (as a TLS wildcard), compared case-insensitively.
/// </summary>
public static class SiloPeerName
{
    public static bool Matches(string pattern, string name)
    {
        if (string.IsNullOrEmpty(pattern) || string.IsNullOrEmpty(name)) return false;
        if (!pattern.StartsWith("*.", StringComparison.Ordinal)) return string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);
        var suffix = pattern[1..];
        return name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && !name[..^suffix.Length].Contains('.');
    }

    /// <summary>The certificate's DNS names (subject alternative names), or its common name when it has none.</summary>
    public static IReadOnlyList<string> Of(X509Certificate2 certificate)
    {
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).ToList();
        if (names.Count == 0 && certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false) is { Length: > 0 } common) names.Add(common);
        return names;
    }

    public static bool Carries(X509Certificate2 certificate, string pattern) => Of(certificate).Any(n => Matches(pattern, n));
}
