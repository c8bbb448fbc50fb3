using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.Licensing.Grants;

/// <summary>
/// API keys: 32 random bytes, Base64url, prefixed <c>olk_</c> (so that secret scanners can spot them). Servers keep
/// only SHA-256 hashes; a key has 256 bits of entropy, so a fast hash is enough (no password stretching needed).
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "olk_";

    public static string New() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Whether a client id is one the credential's pattern covers: the id itself, or a prefix ending in '*'.</summary>
    public static bool Covers(string pattern, string clientId) =>
        pattern.EndsWith('*') ? clientId.StartsWith(pattern[..^1], StringComparison.Ordinal) : pattern == clientId;
}
