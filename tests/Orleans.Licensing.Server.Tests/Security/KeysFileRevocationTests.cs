using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Orleans.Licensing.Grants;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// Revocation fails closed (docs/security.md): a removed entry stops working within the next reload; a keys file that
/// cannot be read or parsed keeps its last valid keys only for <see cref="Grace"/>, then its keys are dropped (the
/// configured ones stay). A real server process whose keys file the test rewrites, deletes and breaks.
/// </summary>
[Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class KeysFileRevocationTests(KeysFileRevocationTests.Server server) : IClassFixture<KeysFileRevocationTests.Server>
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(4);

    public sealed class Server : IAsyncLifetime
    {
        public Server()
        {
            Folder = Path.Combine(Path.GetTempPath(), "licensing-tests", "revoke-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Folder);
            KeysFile = Path.Combine(Folder, "keys.json");
            Write(Key("start"));
            Process = new ServerProcess("revoke", Path.Combine(Folder, "data"), settings: new Dictionary<string, string>
            {
                ["Licensing__Security__KeysFile"] = KeysFile,
                ["Licensing__Security__KeysFileGrace"] = Grace.ToString(),
            });
        }

        public string Folder { get; }

        public string KeysFile { get; }

        public ServerProcess Process { get; }

        public static (string Id, string Key) Key(string id) => (id, ApiKeys.New());

        /// <summary>Readers, written as a Secret update swaps the file (never half written).</summary>
        public void Write(params (string Id, string Key)[] readers) => WriteRaw(JsonSerializer.Serialize(new
        {
            ApiKeys = readers.Select(r => new { r.Id, Hash = ApiKeys.Hash(r.Key), Role = "Reader" }),
        }));

        public void WriteRaw(string text)
        {
            File.WriteAllText(KeysFile + ".new", text);
            File.Move(KeysFile + ".new", KeysFile, overwrite: true);
        }

        public async Task<HttpStatusCode> StatusWith(string key)
        {
            using var http = Process.CreateHttpClient(TestRole.None);
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return (await http.GetAsync("api/v1/servers")).StatusCode;
        }

        public Task InitializeAsync() => Process.StartAsync();

        public async Task DisposeAsync()
        {
            await Process.DisposeAsync();
            PoolFixture.TryDelete(Folder);
        }
    }

    private async Task TrustedAsync(string key) =>
        await Until.TrueAsync(async () => await server.StatusWith(key) == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "the key to be trusted");

    [Fact]
    public async Task A_removed_entry_is_refused_within_2_seconds_and_the_others_keep_working()
    {
        var (stays, goes) = (Server.Key("stays"), Server.Key("goes"));
        server.Write(stays, goes);
        await TrustedAsync(goes.Key);

        server.Write(stays);
        var removed = Stopwatch.StartNew();
        await Until.TrueAsync(async () => await server.StatusWith(goes.Key) == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(2), "the removed key to be refused");
        Assert.True(removed.Elapsed < TimeSpan.FromSeconds(2.5), $"refused after {removed.Elapsed}");
        Assert.Equal(HttpStatusCode.OK, await server.StatusWith(stays.Key));
        Assert.Equal(HttpStatusCode.OK, await server.StatusWith(TestSecurity.AdminKey));
    }

    [Theory]
    [InlineData("deleted")]
    [InlineData("half written")]
    [InlineData("not json")]
    [InlineData("empty")]
    public async Task An_unreadable_keys_file_keeps_its_last_keys_for_the_grace_then_drops_them(string how)
    {
        var key = Server.Key("file-" + how.Replace(' ', '-'));
        server.Write(key);
        await TrustedAsync(key.Key);
        var before = await UnreadableCountAsync();

        var broken = Stopwatch.StartNew();
        switch (how)
        {
            case "deleted": File.Delete(server.KeysFile); break;
            case "half written": File.WriteAllText(server.KeysFile, """{"ApiKeys":[{"Id":"x","Hash":"sha256:"""); break;
            case "not json": File.WriteAllText(server.KeysFile, "<html>503 Service Unavailable</html>"); break;
            case "empty": File.WriteAllText(server.KeysFile, ""); break;
        }

        // Within the grace: a Secret being swapped does not log every client out.
        Assert.Equal(HttpStatusCode.OK, await server.StatusWith(key.Key));
        await Until.TrueAsync(async () => await server.StatusWith(key.Key) == HttpStatusCode.Unauthorized, Grace + TimeSpan.FromSeconds(3), "the file's keys to be dropped");
        Assert.True(broken.Elapsed >= Grace - TimeSpan.FromSeconds(1), $"dropped after {broken.Elapsed}, before the grace of {Grace}");

        // Configuration keys stay; the failed reads are counted (and logged).
        Assert.Equal(HttpStatusCode.OK, await server.StatusWith(TestSecurity.AdminKey));
        Assert.True(await UnreadableCountAsync() > before, "licensing_keys_file_unreadable_total did not grow");
        Assert.Contains("keys file", server.Process.Log);

        // A good file again: its keys are back at the next reload.
        server.Write(key);
        await TrustedAsync(key.Key);
    }

    [Fact]
    public async Task An_unreadable_entry_stops_working_while_the_file_s_other_entries_keep_working()
    {
        var (good, bad) = (Server.Key("good"), Server.Key("bad"));
        server.Write(good, bad);
        await TrustedAsync(bad.Key);

        server.WriteRaw(JsonSerializer.Serialize(new
        {
            ApiKeys = new object[]
            {
                new { good.Id, Hash = ApiKeys.Hash(good.Key), Role = "Reader" },
                new { bad.Id, Hash = ApiKeys.Hash(bad.Key), Role = "Reader", NotAfter = "next tuesday" },
            },
        }));
        await Until.TrueAsync(async () => await server.StatusWith(bad.Key) == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(2), "the unreadable entry to be refused");
        Assert.Equal(HttpStatusCode.OK, await server.StatusWith(good.Key));
    }

    private async Task<double> UnreadableCountAsync()
    {
        using var http = server.Process.CreateHttpClient(TestRole.Reader);
        var text = await http.GetStringAsync("metrics");
        return text.Split('\n').Where(l => l.StartsWith("licensing_keys_file_unreadable_total", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
