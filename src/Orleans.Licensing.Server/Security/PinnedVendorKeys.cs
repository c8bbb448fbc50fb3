using System.Reflection;
using System.Text.Json;
using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// The vendor public keys pinned into a vendor build (VendorKeys.targets: the resource
/// <see cref="ResourceName"/>); none in the open build.
/// </summary>
public sealed class PinnedVendorKeys(IReadOnlyList<TrustedVendorKey> keys)
{
    public const string ResourceName = "Orleans.Licensing.VendorKeys.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };

    public IReadOnlyList<TrustedVendorKey> Keys => keys;

    /// <summary>The keys pinned into this server's assembly.</summary>
    public static PinnedVendorKeys OfThisBuild() => From(typeof(PinnedVendorKeys).Assembly);

    /// <summary>The keys pinned into <paramref name="assembly"/>; a resource that holds no valid key fails the start.</summary>
    public static PinnedVendorKeys From(Assembly assembly)
    {
        using var stream = assembly.GetManifestResourceStream(ResourceName);
        if (stream is null) return new PinnedVendorKeys([]);
        var entries = JsonSerializer.Deserialize<List<VendorKeyEntry>>(stream, Json) ?? [];
        var pinned = entries.Select(e => new TrustedVendorKey(e.Id, e.PublicKey, e.NotAfter)).ToList();
        if (pinned.Count == 0 || pinned.Any(k => string.IsNullOrWhiteSpace(k.Id) || !IsPublicKey(k.PublicKey)))
        {
            throw new InvalidOperationException($"The pinned vendor keys ({ResourceName}) must be a non-empty list of {{Id, PublicKey}} (Base64 of 32 bytes).");
        }

        return new PinnedVendorKeys(pinned);
    }

    private static bool IsPublicKey(string text)
    {
        var bytes = new byte[32];
        return Convert.TryFromBase64String(text, bytes, out var written) && written == 32;
    }
}
