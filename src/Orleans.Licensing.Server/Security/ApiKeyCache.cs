using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// The API keys verified lately, by their bytes: a request with a key seen before skips the SHA-256, its hex text and
/// the ring's lookup. A small fixed table (<see cref="Slots"/>, two ways per key), a slot chosen by the process-randomized string hash
/// and compared in constant time (<see cref="CryptographicOperations.FixedTimeEquals"/>), so a slot answers only for
/// the exact key that filled it. Only keys the ring trusts are kept (unknown keys are hashed every time and evict
/// nothing), and every entry belongs to one ring snapshot: when the ring reloads (at most once a second) all entries
/// miss, so a revoked key stops working as fast as without the cache. Expiry (<c>NotAfter</c>) is checked on each hit.
/// </summary>
public sealed class ApiKeyCache(KeyRing keys)
{
    public const int Slots = 4096;

    private static readonly ConditionalWeakTable<KeyRing, ApiKeyCache> PerRing = [];
    private readonly Slot?[] _slots = new Slot?[Slots];

    /// <summary>The cache of a ring (the handler is made per request; the ring is a singleton, so is its cache).</summary>
    public static ApiKeyCache For(KeyRing keys) => PerRing.GetValue(keys, k => new ApiKeyCache(k));

    public ApiKeyEntry? Find(string key, DateTimeOffset now)
    {
        var generation = keys.Generation;
        // Two ways per key: two keys of one slot do not evict each other on every request.
        var first = (int)((uint)key.GetHashCode() % Slots);
        var second = first ^ 1;
        Span<byte> bytes = key.Length <= 512 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        bytes = bytes[..Encoding.UTF8.GetBytes(key, bytes)];
        if ((Hit(first, bytes, generation) ?? Hit(second, bytes, generation)) is { } hit)
        {
            return hit.NotAfter is null || hit.NotAfter > now ? hit : null;
        }

        if (keys.FindApiKey(key, now) is not { } entry) return null;
        var into = Volatile.Read(ref _slots[first]) is { } taken && ReferenceEquals(taken.Generation, generation) && Volatile.Read(ref _slots[second]) is not { } ? second : first;
        Volatile.Write(ref _slots[into], new Slot(bytes.ToArray(), entry, generation));
        return entry;
    }

    private ApiKeyEntry? Hit(int index, ReadOnlySpan<byte> key, object generation) =>
        Volatile.Read(ref _slots[index]) is { } slot && ReferenceEquals(slot.Generation, generation) && CryptographicOperations.FixedTimeEquals(slot.Key, key) ? slot.Entry : null;

    /// <param name="Generation">The ring snapshot the entry was verified against (<see cref="KeyRing.Generation"/>).</param>
    private sealed record Slot(byte[] Key, ApiKeyEntry Entry, object Generation);
}
