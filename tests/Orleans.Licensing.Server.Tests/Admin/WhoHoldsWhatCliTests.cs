using System.Net;
using System.Text.Json.Nodes;
using Orleans.Licensing.Cli;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Admin;

/// <summary><c>licensing leases</c> (lmstat) and <c>licensing release</c> (lmremove) against a real server, with their output and exit codes.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Process")]
public sealed class WhoHoldsWhatCliTests(PoolFixture pool)
{
    private static readonly string Keys = CreateKeyFiles();

    private static string CreateKeyFiles()
    {
        var folder = Path.Combine(Path.GetTempPath(), "licensing-tests", "cli-admin-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "admin.key"), TestSecurity.AdminKey + "\n");
        File.WriteAllText(Path.Combine(folder, "reader.key"), TestSecurity.ReaderKey + "\n");
        return folder;
    }

    private async Task<(int Exit, string Out, string Err)> RunAsync(string key, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Cli.Cli.RunAsync([.. args, "--server", pool.Server.Url.ToString(), "--key-file", Path.Combine(Keys, key + ".key")], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Leases_prints_who_holds_what_and_release_frees_a_seat_with_its_reason_in_the_audit_log()
    {
        var code = PoolFixture.NewCode("CLIREL");
        await pool.AddLicenseAsync(code, 4);
        using var client = pool.Server.CreateHttpClient(TestRole.Client);
        var checkout = await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"cad-3","count":3,"user":"dora","host":"lab-9"}""");
        Assert.Equal(HttpStatusCode.Created, checkout.Status);
        var leaseId = (string)checkout.Body!["leaseId"]!;

        // A reader sees the table and the JSON.
        var table = await RunAsync("reader", "leases", code);
        Assert.Equal(ExitCodes.Ok, table.Exit);
        Assert.Matches(@"LEASE\s+CLIENT\s+USER@HOST\s+COUNT\s+SERVER\s+SINCE\s+EXPIRES\s+STATE", table.Out);
        Assert.Matches($@"{leaseId}\s+cad-3\s+dora@lab-9\s+3\s+alpha\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\s+active", table.Out);
        Assert.Contains("1 lease(s), 3 seat(s)", table.Out);
        var json = JsonNode.Parse((await RunAsync("reader", "leases", code, "--json")).Out)!.AsArray();
        Assert.Equal(("dora", "lab-9", "active"), ((string?)json.Single()!["user"], (string?)json.Single()!["host"], (string?)json.Single()!["state"]));

        // A reader may not release; the admin may, once.
        var refused = await RunAsync("reader", "release", code, leaseId, "--reason", "mine");
        Assert.Equal(ExitCodes.Refused, refused.Exit);
        Assert.Contains("forbidden", refused.Err);
        Assert.Equal(3, await pool.InUseAsync(code));

        var released = await RunAsync("admin", "release", code, leaseId, "--reason", "stuck session");
        Assert.Equal(ExitCodes.Ok, released.Exit);
        Assert.Contains($"Released {leaseId} (3 seat(s) of client cad-3 dora@lab-9) at alpha.", released.Out);
        Assert.Equal(0, await pool.InUseAsync(code));
        var twice = await RunAsync("admin", "release", code, leaseId);
        Assert.Equal(ExitCodes.NotFound, twice.Exit);
        Assert.Contains("lease-released", twice.Err);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("admin", "release", code, "no-such-lease")).Exit);
        Assert.Contains($"No leases of {code}.", (await RunAsync("reader", "leases", code)).Out);

        // The audit log shows the actor and the reason.
        var usage = await Until.ValueAsync(() => RunAsync("reader", "usage", "--code", code, "--kind", "release"), u => u.Out.Contains(leaseId), TimeSpan.FromSeconds(15), "the release row");
        Assert.Matches($@"release\s+{code}\s+alpha\s+cad-3\s+3\s+{leaseId}\s+test-admin\s+stuck session", usage.Out);
    }
}
