using System.Net;
using Orleans.Licensing.Cli;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// The zero-setup path: a server with no keys configured generates local ones once, owner-readable only, and the CLI
/// run from the same folder finds them — the README's quickstart, step by step.
/// </summary>
// In the CLI's collection: the quickstart changes the working directory, which no test running beside it may rely on.
[Collection(PoolCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class LocalKeysTests
{
    [Fact, Trait("Claim", "11")]
    public async Task A_server_without_keys_generates_local_ones_that_the_quickstart_uses()
    {
        var folder = Path.Combine(Path.GetTempPath(), "licensing-tests", "local-" + Guid.NewGuid().ToString("N"));
        var data = Path.Combine(folder, "data");
        await using var server = new ServerProcess("local", data, trustTestKeys: false);
        try
        {
            await server.StartAsync();
            var keys = Path.Combine(data, "keys");
            foreach (var file in new[] { "admin.key", "reader.key", "client.key", "vendor.key", "keys.json" })
            {
                var path = Path.Combine(keys, file);
                Assert.True(File.Exists(path), path);
                if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            Assert.Contains(keys, server.Log);
            Assert.DoesNotContain(File.ReadAllText(Path.Combine(keys, "admin.key")).Trim(), server.Log);
            using (var anonymous = server.CreateHttpClient(TestRole.None))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/v1/licenses")).StatusCode);
            }

            // The quickstart, from the folder the server runs in (the CLI's defaults are data/keys/vendor.key and admin.key).
            var previous = Environment.CurrentDirectory;
            Environment.CurrentDirectory = folder;
            try
            {
                var url = server.Url.ToString();
                // The README signs without --server: the CLI asks http://localhost:5000 for the pool id; here the server is elsewhere.
                var sign = await Run("sign", "code", "CAD-2026", "--product", "Acme CAD", "--seats", "10", "--out", "cad.grant", "--server", url);
                Assert.True(sign.Exit == ExitCodes.Ok, sign.Err);
                var add = await Run("add-code", "--grant", "cad.grant", "--server", url);
                Assert.True(add.Exit == ExitCodes.Ok, add.Err);
                Assert.Contains("CAD-2026  product Acme CAD  seats 10", add.Out);
                Assert.Contains("TRIAL", add.Out);

                // The local keys are a trial: ten seats per pool, and the pool says so.
                var pool = await Run("pool", "--server", url);
                Assert.Matches(@"^pool pool-[0-9a-f]{32}  trust: trial keys  trial seats 10 of 10", pool.Out);
                Assert.Equal(ExitCodes.Ok, (await Run("sign", "allocations", "CAD-2026", "--count", "1", "--out", "more.grant", "--server", url)).Exit);
                var more = await Run("add-allocations", "CAD-2026", "--grant", "more.grant", "--server", url);
                Assert.NotEqual(ExitCodes.Ok, more.Exit);
                Assert.StartsWith("trial-limit:", more.Err);
                Assert.Equal(ExitCodes.Ok, (await Run("checkout", "CAD-2026", "--count", "2", "--server", url)).Exit);
                var status = await Run("status", "--server", url);
                Assert.Matches(@"local\s+Up\s+10\s+10\s+2", status.Out);
            }
            finally
            {
                Environment.CurrentDirectory = previous;
            }

            // A restart keeps the keys (and so every credential handed out).
            var admin = File.ReadAllText(Path.Combine(keys, "admin.key"));
            await server.StopAsync();
            await server.StartAsync();
            Assert.Equal(admin, File.ReadAllText(Path.Combine(keys, "admin.key")));
            using var http = server.CreateHttpClient(TestRole.None);
            http.DefaultRequestHeaders.Authorization = new("Bearer", admin.Trim());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/licenses/CAD-2026")).StatusCode);
        }
        finally
        {
            await server.DisposeAsync();
            PoolFixture.TryDelete(folder);
        }
    }

    [Fact]
    public async Task Without_local_keys_and_without_credentials_a_server_refuses_to_start()
    {
        var data = Path.Combine(Path.GetTempPath(), "licensing-tests", "nokeys-" + Guid.NewGuid().ToString("N"));
        await using var server = new ServerProcess("nokeys", data, trustTestKeys: false,
            settings: new Dictionary<string, string> { ["Licensing__Security__LocalKeys"] = "false" });
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(server.StartAsync);
        Assert.Contains("No credentials are configured", failed.Message);
        Assert.NotEqual(0, server.ExitCode);
        PoolFixture.TryDelete(data);
    }

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Cli.Cli.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
