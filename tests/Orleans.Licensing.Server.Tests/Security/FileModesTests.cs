using System.Net;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// What a server writes to disk is its user's alone (Unix): the embedded store's folder 0700 and its SQLite files 0600;
/// and it trusts an existing <c>data/keys</c> folder only when it is owner-only (0700, files 0600) and its own.
/// </summary>
[Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class FileModesTests
{
    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerFolder = OwnerFile | UnixFileMode.UserExecute;

    [Fact]
    public async Task The_embedded_store_s_folder_and_files_are_owner_only()
    {
        if (OperatingSystem.IsWindows()) return;
        var root = Path.Combine(Path.GetTempPath(), "licensing-tests", "modes-" + Guid.NewGuid().ToString("N"));
        var store = Path.Combine(root, "store");
        await using var server = new ServerProcess("modes", root, settings: new Dictionary<string, string> { ["Licensing__DataPath"] = store });
        try
        {
            await server.StartAsync();
            var code = PoolFixture.NewCode("MODE");
            using var http = server.CreateHttpClient();
            var added = await http.PostAsync("api/v1/licenses", new StringContent($$"""{"grant":"{{TestSecurity.CodeGrant(code, 2)}}"}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);

            Assert.Equal(OwnerFolder, File.GetUnixFileMode(store));
            var files = Directory.GetFiles(store, "licensing.db*");
            Assert.Contains(Path.Combine(store, "licensing.db"), files);
            Assert.Contains(Path.Combine(store, "licensing.db-wal"), files);
            foreach (var file in files) Assert.True(File.GetUnixFileMode(file) == OwnerFile, $"{file}: {File.GetUnixFileMode(file)}");
        }
        finally
        {
            await server.DisposeAsync();
            PoolFixture.TryDelete(root);
        }
    }

    [Fact]
    public async Task A_local_keys_folder_that_others_can_read_is_not_trusted_and_the_server_refuses_to_start()
    {
        if (OperatingSystem.IsWindows()) return;
        var data = Path.Combine(Path.GetTempPath(), "licensing-tests", "keys-modes-" + Guid.NewGuid().ToString("N"));
        var keys = Path.Combine(data, "keys");
        await using var server = new ServerProcess("keymodes", data, trustTestKeys: false);
        try
        {
            await server.StartAsync();   // generates data/keys, owner-only
            await server.StopAsync();

            foreach (var (path, mode, restore) in new[]
                     {
                         (keys, OwnerFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, OwnerFolder),
                         (Path.Combine(keys, "keys.json"), OwnerFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead, OwnerFile),
                         (Path.Combine(keys, "admin.key"), OwnerFile | UnixFileMode.OtherRead, OwnerFile),
                     })
            {
                File.SetUnixFileMode(path, mode);
                var failed = await Assert.ThrowsAsync<InvalidOperationException>(server.StartAsync);
                Assert.Contains(path, failed.Message);
                Assert.Contains("owner", failed.Message);
                Assert.NotEqual(0, server.ExitCode);
                File.SetUnixFileMode(path, restore);
            }

            // Owner-only again: trusted.
            await server.StartAsync();
            using var http = server.CreateHttpClient(TestRole.None);
            http.DefaultRequestHeaders.Authorization = new("Bearer", File.ReadAllText(Path.Combine(keys, "reader.key")).Trim());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/servers")).StatusCode);
        }
        finally
        {
            await server.DisposeAsync();
            PoolFixture.TryDelete(data);
        }
    }
}
