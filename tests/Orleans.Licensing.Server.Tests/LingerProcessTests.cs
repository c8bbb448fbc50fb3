using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orleans.Licensing.Cli;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// LINGER over real HTTP with a real server process (six-second leases): the admin sets the linger with the CLI, bad
/// lingers and other roles are refused and change nothing, a check-in keeps the seat ("lingering" in the lease list)
/// until the linger ends, and the usage log says so (docs/admin/linger.md).
/// </summary>
[Trait("Category", "Process")]
public sealed class LingerProcessTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
    private readonly string _clientKeyFile = Path.Combine(Path.GetTempPath(), "licensing-tests", $"client-{Guid.NewGuid():N}.key");
    private ServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_clientKeyFile)!);
        await File.WriteAllTextAsync(_clientKeyFile, TestSecurity.ClientKey + "\n");
        _server = new ServerProcess("primary", _data, settings: new Dictionary<string, string> { ["Licensing__LeaseTtl"] = "00:00:06" });
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        PoolFixture.TryDelete(_data);
        PoolFixture.TryDelete(_clientKeyFile);
    }

    [Fact]
    public async Task The_cli_sets_a_linger_and_a_checked_in_seat_stays_taken_until_it_ends()
    {
        var code = PoolFixture.NewCode();
        using var admin = _server.CreateHttpClient();
        using var reader = _server.CreateHttpClient(TestRole.Reader);
        using var client = _server.CreateHttpClient(TestRole.Client);
        (await admin.PostAsJsonAsync("api/v1/licenses", new { grant = TestSecurity.CodeGrant(code, 1, "CAD") })).EnsureSuccessStatusCode();

        var set = await CliAsync(TestSecurity.AdminKeyFile, "linger", code, "--for", "PT12S", "--server", _server.Url.ToString());
        Assert.True(set.Exit == ExitCodes.Ok, set.Err);
        Assert.Contains("linger PT12S", set.Out);
        foreach (var bad in new[] { """{"linger":"PT25H"}""", """{"linger":"-PT1S"}""", """{"linger":"five minutes"}""", "{}" })
        {
            Api.AssertProblem(await admin.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/linger", bad), HttpStatusCode.BadRequest, "invalid-request");
        }

        Api.AssertProblem(await client.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/linger", """{"linger":"PT1S"}"""), HttpStatusCode.Forbidden, "forbidden");
        Api.AssertProblem(await reader.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/linger", """{"linger":"PT1S"}"""), HttpStatusCode.Forbidden, "forbidden");
        var badCli = await CliAsync(TestSecurity.AdminKeyFile, "linger", code, "--for", "soon", "--server", _server.Url.ToString());
        Assert.NotEqual(ExitCodes.Ok, badCli.Exit);
        var view = (await admin.GetFromJsonAsync<JsonObject>($"api/v1/licenses/{code}"))!["offlineBorrow"]!;
        Assert.Equal(("PT12S", 1L), ((string?)view["linger"], view["version"]!.GetValue<long>()));

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"api/v1/licenses/{code}/leases", new { clientId = "app-1", count = 1 })).StatusCode);
        var leaseId = (await admin.GetFromJsonAsync<JsonArray>($"api/v1/licenses/{code}/leases"))!.Single()!["leaseId"]!.GetValue<string>();
        var checkedIn = await client.DeleteAsync($"api/v1/licenses/{code}/leases/{leaseId}?clientId=app-1");
        Assert.True(checkedIn.IsSuccessStatusCode, $"{checkedIn.StatusCode}");

        // The seat lingers: listed as such, and a new checkout is denied until the linger ends.
        var listed = (await admin.GetFromJsonAsync<JsonArray>($"api/v1/licenses/{code}/leases"))!.Single()!;
        Assert.Equal((leaseId, "lingering"), (listed["leaseId"]!.GetValue<string>(), listed["state"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsJsonAsync($"api/v1/licenses/{code}/leases", new { clientId = "app-2", count = 1 })).StatusCode);
        await Until.TrueAsync(async () =>
            (await client.PostAsJsonAsync($"api/v1/licenses/{code}/leases", new { clientId = "app-2", count = 1 })).StatusCode == HttpStatusCode.Created,
            TimeSpan.FromSeconds(30), "granted once the linger ended");

        var events = await Until.ValueAsync(() => admin.GetFromJsonAsync<JsonArray>($"api/v1/usage?code={code}&kind=checkin,expiry"),
            e => e!.Count >= 2, TimeSpan.FromSeconds(15), "the linger's usage events");
        Assert.Contains(events!, e => (string?)e!["kind"] == "checkin" && ((string?)e["detail"])?.StartsWith("lingers until ", StringComparison.Ordinal) == true);
        Assert.Contains(events!, e => (string?)e!["kind"] == "expiry" && (string?)e["detail"] == "linger ended");
    }

    private static async Task<(int Exit, string Out, string Err)> CliAsync(string keyFile, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Cli.Cli.RunAsync([.. args, "--key-file", keyFile], output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
