using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Licensing.Server.Security;

namespace Orleans.Licensing.Server.UnitTests;

/// <summary>The keys file read fail-closed: entry by entry, the last valid keys only within the grace.</summary>
public sealed class KeysFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"keys-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_path);

    private const string TwoKeys = """
        { "ApiKeys": [ { "Id": "a", "Hash": "sha256:aa", "Role": "Reader" }, { "Id": "b", "Hash": "sha256:bb", "Role": "Client", "MaxSeats": 2 } ],
          "VendorKeys": [ { "Id": "v", "PublicKey": "AAAA" } ] }
        """;

    [Fact]
    public void A_readable_file_gives_its_entries()
    {
        File.WriteAllText(_path, TwoKeys);
        var keys = new KeysFile(NullLogger.Instance).Read(_path, TimeSpan.FromMinutes(1));
        Assert.Equal(["a", "b"], keys.ApiKeys.Select(k => k.Id));
        Assert.Equal(2, keys.ApiKeys[1].MaxSeats);
        Assert.Equal("v", Assert.Single(keys.VendorKeys).Id);
    }

    [Theory]
    [InlineData("""{ "Id": "bad", "Hash": "sha256:cc", "Role": "Reader", "NotAfter": "next tuesday" }""")]
    [InlineData("""{ "Id": "bad", "Hash": "sha256:cc", "Role": "Client", "MaxSeats": -1 }""")]
    [InlineData("""{ "Id": "bad", "Hash": ["sha256:cc"], "Role": "Reader" }""")]
    [InlineData("42")]
    public void An_unreadable_entry_is_skipped_and_the_others_stay(string bad)
    {
        File.WriteAllText(_path, $$"""{ "ApiKeys": [ { "Id": "good", "Hash": "sha256:aa", "Role": "Reader" }, {{bad}} ] }""");
        var keys = new KeysFile(NullLogger.Instance).Read(_path, TimeSpan.FromMinutes(1));
        Assert.Equal(["good"], keys.ApiKeys.Select(k => k.Id));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("""{"ApiKeys":[{"Id":"a","Hash":"sha""")]
    [InlineData("[]")]
    [InlineData("""{"ApiKeys":{"Id":"a"}}""")]
    public void An_unreadable_file_keeps_the_last_keys_within_the_grace_and_none_without_one(string? broken)
    {
        File.WriteAllText(_path, TwoKeys);
        var withGrace = new KeysFile(NullLogger.Instance);
        var withoutGrace = new KeysFile(NullLogger.Instance);
        withGrace.Read(_path, TimeSpan.FromMinutes(1));
        withoutGrace.Read(_path, TimeSpan.Zero);

        if (broken is null) File.Delete(_path);
        else File.WriteAllText(_path, broken);

        Assert.Equal(2, withGrace.Read(_path, TimeSpan.FromMinutes(1)).ApiKeys.Count);
        Assert.Empty(withoutGrace.Read(_path, TimeSpan.Zero).ApiKeys);
        Assert.Empty(withoutGrace.Read(_path, TimeSpan.Zero).VendorKeys);

        // Readable again: its keys are back.
        File.WriteAllText(_path, TwoKeys);
        Assert.Equal(2, withoutGrace.Read(_path, TimeSpan.Zero).ApiKeys.Count);
    }
}
