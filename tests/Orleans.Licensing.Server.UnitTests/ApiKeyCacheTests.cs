using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Licensing.Grants;
using Orleans.Licensing.Server.Security;

namespace Orleans.Licensing.Server.UnitTests;

/// <summary>The API key cache answers exactly as the key ring does, also right after a key is removed from the keys file.</summary>
public sealed class ApiKeyCacheTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"), "keys.json");
    private readonly string _key = ApiKeys.New();
    private readonly string _other = ApiKeys.New();
    private readonly ApiKeyCache _cache;

    public ApiKeyCacheTests()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_file)!);
        Write((_key, "a", null), (_other, "b", DateTimeOffset.UtcNow.AddHours(1)));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Licensing:Security:KeysFile"] = _file }).Build();
        _cache = new ApiKeyCache(new KeyRing(configuration, NullLogger<KeyRing>.Instance));
    }

    [Fact]
    public void A_cached_key_answers_its_own_entry_and_no_other_key_does()
    {
        var now = DateTimeOffset.UtcNow;
        Assert.Equal("a", _cache.Find(_key, now)?.Id);
        Assert.Equal("a", _cache.Find(_key, now)?.Id);
        Assert.Equal("b", _cache.Find(_other, now)?.Id);

        // Same length, one character changed; and a key that was never trusted.
        var near = _key[..^1] + (_key[^1] == 'A' ? 'B' : 'A');
        Assert.Null(_cache.Find(near, now));
        Assert.Null(_cache.Find(ApiKeys.New(), now));
        Assert.Equal("a", _cache.Find(_key, now)?.Id);
    }

    [Fact]
    public void A_cached_key_past_its_end_of_validity_is_refused()
    {
        Assert.Equal("b", _cache.Find(_other, DateTimeOffset.UtcNow)?.Id);
        Assert.Null(_cache.Find(_other, DateTimeOffset.UtcNow.AddHours(2)));
    }

    [Fact]
    public async Task A_key_removed_from_the_keys_file_is_refused_within_the_rings_reload()
    {
        Assert.Equal("a", _cache.Find(_key, DateTimeOffset.UtcNow)?.Id);
        Write((_other, "b", null));
        var removed = Stopwatch.StartNew();
        while (_cache.Find(_key, DateTimeOffset.UtcNow) is not null)
        {
            Assert.True(removed.Elapsed < TimeSpan.FromSeconds(5), "the removed key is still accepted after 5 s");
            await Task.Delay(20);
        }

        Assert.InRange(removed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal("b", _cache.Find(_other, DateTimeOffset.UtcNow)?.Id);
    }

    private void Write(params (string Key, string Id, DateTimeOffset? NotAfter)[] keys) =>
        File.WriteAllText(_file, JsonSerializer.Serialize(new
        {
            ApiKeys = keys.Select(k => new { k.Id, Hash = ApiKeys.Hash(k.Key), Role = "Admin", k.NotAfter }),
            VendorKeys = Array.Empty<object>(),
        }));

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_file)!, recursive: true);
}
