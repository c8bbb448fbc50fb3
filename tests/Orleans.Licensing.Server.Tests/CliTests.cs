using System.Text.Json.Nodes;
using Orleans.Licensing.Cli;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>Each <c>licensing</c> command against a real license server, with its output and exit code.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Process")]
public sealed class CliTests(PoolFixture pool)
{
    private string Server => pool.Server.Url.ToString();

    /// <summary>Key files as an operator keeps them: the admin API key and the vendor's signing key.</summary>
    private static readonly string Keys = CreateKeyFiles();
    private static string AdminKeyFile => Path.Combine(Keys, "admin.key");
    private static string ReaderKeyFile => Path.Combine(Keys, "reader.key");
    private static string VendorKeyFile => Path.Combine(Keys, "vendor.key");

    private static string CreateKeyFiles()
    {
        var folder = Path.Combine(Path.GetTempPath(), "licensing-tests", "cli-keys-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "admin.key"), TestSecurity.AdminKey + "\n");
        File.WriteAllText(Path.Combine(folder, "reader.key"), TestSecurity.ReaderKey + "\n");
        File.WriteAllText(Path.Combine(folder, "vendor.key"), TestSecurity.Vendor.ToJson());
        return folder;
    }

    /// <summary>Runs the CLI with the admin key file, unless the arguments name a key file of their own.</summary>
    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) =>
        RunWithAsync(args.Contains("--key-file") ? args : [.. args, "--key-file", AdminKeyFile]);

    private static async Task<(int Exit, string Out, string Err)> RunWithAsync(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Cli.Cli.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private static string TempFile() => Path.Combine(Keys, Guid.NewGuid().ToString("N") + ".grant");

    [Fact, Trait("Claim", "11"), Trait("Claim", "9"), Trait("Claim", "7")]
    public async Task Admin_commands_add_a_code_allocations_and_a_distribution()
    {
        var code = PoolFixture.NewCode();

        var grant = TempFile();
        var sign = await RunAsync("sign", "code", code, "--product", "Acme CAD", "--seats", "10", "--key", VendorKeyFile, "--out", grant, "--server", Server);
        Assert.Equal(ExitCodes.Ok, sign.Exit);
        var add = await RunAsync("add-code", "--grant", grant, "--server", Server);
        Assert.Equal(ExitCodes.Ok, add.Exit);
        Assert.Contains($"{code}  product Acme CAD  seats 10  free pool 0", add.Out);

        var replay = await RunAsync("add-code", "--grant", grant, "--server", Server);
        Assert.Equal(ExitCodes.Refused, replay.Exit);
        Assert.Contains("grant-replayed", replay.Err);

        var allocations = TempFile();
        Assert.Equal(ExitCodes.Ok, (await RunAsync("sign", "allocations", code, "--count", "5", "--key", VendorKeyFile, "--out", allocations, "--pool-id", TestSecurity.PoolId)).Exit);
        var more = await RunAsync("add-allocations", code, "--grant", allocations, "--server", Server, "--json");
        Assert.Equal(ExitCodes.Ok, more.Exit);
        var json = JsonNode.Parse(more.Out)!;
        Assert.Equal(15, json.Int("seats"));
        Assert.Equal(5, json.Int("freePool"));

        var set = await RunAsync("set-distribution", code, "--share", "alpha=12", "--threshold", "0.6", "--server", Server);
        Assert.Equal(ExitCodes.Ok, set.Exit);
        Assert.Contains("free pool 3", set.Out);
        Assert.Matches(@"alpha\s+Up\s+12\s+12\s+0\s+0\.60\s+0", set.Out);

        var even = await RunAsync("set-distribution", code, "--even", "--server-threshold", "alpha=0.9", "-s", Server, "--json");
        Assert.Equal(ExitCodes.Ok, even.Exit);
        Assert.Equal(15, JsonNode.Parse(even.Out)!.Share("alpha").Int("allocated"));
    }

    [Fact]
    public async Task Status_shows_a_table_of_servers_shares_in_use_free_pool_and_leader()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 8);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("checkout", code, "--count", "3", "-s", Server)).Exit);

        var one = await RunAsync("status", code, "-s", Server);
        Assert.Equal(ExitCodes.Ok, one.Exit);
        Assert.Contains($"{code}  product Test product  seats 8  free pool 0", one.Out);
        Assert.Contains("leader alpha", one.Out);
        Assert.Matches(@"SERVER\s+STATUS\s+ALLOCATED\s+SHARE\s+IN USE\s+THRESHOLD\s+HELD", one.Out);
        Assert.Matches(@"alpha\s+Up\s+8\s+8\s+3\s+0\.80\s+0", one.Out);

        var all = await RunAsync("status", "-s", Server);
        Assert.Equal(ExitCodes.Ok, all.Exit);
        Assert.Contains(code, all.Out);

        var json = await RunAsync("status", code, "-s", Server, "--json");
        Assert.Equal(3, JsonNode.Parse(json.Out)!.Share("alpha").Int("inUse"));

        var servers = await RunAsync("servers", "-s", Server);
        Assert.Equal(ExitCodes.Ok, servers.Exit);
        Assert.Matches(@"alpha\s+Active\s+127\.0\.0\.1:\d+@\d+\s+\(answered\)", servers.Out);
    }

    [Fact, Trait("Claim", "1")]
    public async Task Checkout_heartbeat_and_checkin_try_a_lease_end_to_end()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 2);

        var checkout = await RunAsync("checkout", code, "--count", "2", "-s", Server, "--json");
        Assert.Equal(ExitCodes.Ok, checkout.Exit);
        var lease = JsonNode.Parse(checkout.Out)!;
        var leaseId = (string)lease["leaseId"]!;
        Assert.Equal("licensing-cli", (string?)lease["clientId"]);
        Assert.Equal(2, await pool.InUseAsync(code));

        var denied = await RunAsync("checkout", code, "-s", Server);
        Assert.Equal(ExitCodes.Refused, denied.Exit);
        Assert.Contains("no-allocation", denied.Err);

        var beat = await RunAsync("heartbeat", code, leaseId, "--server-id", "alpha", "--count", "2", "-s", Server);
        Assert.Equal(ExitCodes.Ok, beat.Exit);
        Assert.Contains($"Lease {leaseId}", beat.Out);

        var wrongCount = await RunAsync("heartbeat", code, leaseId, "--server-id", "alpha", "--count", "1", "-s", Server);
        Assert.Equal(ExitCodes.Refused, wrongCount.Exit);
        Assert.Contains("conflict", wrongCount.Err);

        var checkin = await RunAsync("checkin", code, leaseId, "-s", Server);
        Assert.Equal(ExitCodes.Ok, checkin.Exit);
        Assert.Contains($"Checked in {leaseId}.", checkin.Out);
        Assert.Equal(0, await pool.InUseAsync(code));

        var again = await RunAsync("checkin", code, leaseId, "-s", Server);
        Assert.Equal(ExitCodes.NotFound, again.Exit);
        Assert.Contains("lease-unknown", again.Err);
    }

    [Fact]
    public async Task Exit_codes_tell_usage_invalid_not_found_and_unreachable_apart()
    {
        var code = PoolFixture.NewCode();

        Assert.Equal(ExitCodes.Usage, (await RunAsync("add-code", "-s", Server)).Exit);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("add-code", "--grant", Path.Combine(Keys, "missing.grant"), "-s", Server)).Exit);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("sign", "code", code, "--product", "P", "--seats", "0", "--key", VendorKeyFile)).Exit);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("sign", "code", code, "--product", "P", "--seats", "1", "--key", Path.Combine(Keys, "none.key"))).Exit);
        var tooLong = await RunAsync("sign", "allocations", code, "--count", "1", "--expires-at", DateTimeOffset.UtcNow.AddDays(31).ToString("O"), "--key", VendorKeyFile, "--pool-id", "p");
        Assert.Equal(ExitCodes.Usage, tooLong.Exit);
        Assert.Contains("at most 30 days", tooLong.Err);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("no-such-command")).Exit);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("status", "-s", "not a url")).Exit);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("set-distribution", code, "--share", "alpha", "-s", Server)).Exit);

        var forged = TempFile();
        File.WriteAllText(forged, "olg1.e30.AAAA");
        var invalid = await RunAsync("add-code", "--grant", forged, "-s", Server);
        Assert.Equal(ExitCodes.Invalid, invalid.Exit);
        Assert.Contains("grant-malformed", invalid.Err);

        var reader = await RunAsync("add-code", "--grant", forged, "-s", Server, "--key-file", ReaderKeyFile);
        Assert.Equal(ExitCodes.Refused, reader.Exit);
        Assert.Contains("forbidden", reader.Err);
        var noKey = await RunWithAsync(["status", "-s", Server, "--key-file", Path.Combine(Keys, "empty.key")]);
        Assert.Equal(ExitCodes.Usage, noKey.Exit);
        var wrongKeyFile = TempFile();
        File.WriteAllText(wrongKeyFile, "olk_not-a-key-of-this-server");
        var wrongKey = await RunWithAsync(["status", "-s", Server, "--key-file", wrongKeyFile]);
        Assert.Equal(ExitCodes.Unauthenticated, wrongKey.Exit);
        Assert.Contains("unauthenticated", wrongKey.Err);

        var unknown = await RunAsync("status", code, "-s", Server, "--json");
        Assert.Equal(ExitCodes.NotFound, unknown.Exit);
        Assert.Equal("https://orleans-licensing.dev/problems/unknown-license", (string?)JsonNode.Parse(unknown.Out)!["type"]);
        var allocations = TempFile();
        Assert.Equal(ExitCodes.Ok, (await RunAsync("sign", "allocations", code, "--count", "1", "--key", VendorKeyFile, "--out", allocations, "--pool-id", TestSecurity.PoolId)).Exit);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("add-allocations", code, "--grant", allocations, "-s", Server)).Exit);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("checkout", code, "-s", Server)).Exit);

        var dead = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        var unreachable = await RunAsync("servers", "-s", dead);
        Assert.Equal(ExitCodes.Unavailable, unreachable.Exit);
        Assert.Contains("No license server answered", unreachable.Err);

        // With several servers, the first that answers serves the command.
        Assert.Equal(ExitCodes.Ok, (await RunAsync("servers", "-s", dead, Server)).Exit);
    }
}
