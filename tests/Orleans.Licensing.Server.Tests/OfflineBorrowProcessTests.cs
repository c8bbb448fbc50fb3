using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Cli;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// Offline borrow over real HTTP with two real server processes (six-second leases): the admin sets the policy with the
/// CLI, a client credential borrows through the CLI, the server holding the borrow is SIGKILLed and the seat stays
/// held past several lease TTLs, and the return at the other server frees it (docs/admin/offline-borrow.md).
/// </summary>
[Trait("Category", "Process")]
public sealed partial class OfflineBorrowProcessTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(6);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string> _settings = new() { ["Licensing__LeaseTtl"] = "00:00:06" };
    private readonly string _clientKeyFile = Path.Combine(Path.GetTempPath(), "licensing-tests", $"client-{Guid.NewGuid():N}.key");
    private ServerProcess _primary = null!;
    private ServerProcess _second = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_clientKeyFile)!);
        await File.WriteAllTextAsync(_clientKeyFile, TestSecurity.ClientKey + "\n");
        _primary = new ServerProcess("primary", _data, settings: _settings);
        await _primary.StartAsync();
        _second = new ServerProcess("second", _data, _primary.SiloPort, _settings);
        await _second.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _primary.DisposeAsync();
        PoolFixture.TryDelete(_data);
        PoolFixture.TryDelete(_clientKeyFile);
    }

    [Fact]
    public async Task A_borrow_is_held_through_a_SIGKILL_of_its_server_past_the_lease_ttl_and_the_return_at_the_other_server_frees_it()
    {
        var code = PoolFixture.NewCode();
        using var admin = _primary.CreateHttpClient();
        using var client = _primary.CreateHttpClient(TestRole.Client);
        (await admin.PostAsJsonAsync("api/v1/licenses", new { grant = TestSecurity.CodeGrant(code, 4, "CAD") })).EnsureSuccessStatusCode();

        // The admin enables borrowing with the CLI; bad policies are refused with a stable code and change nothing.
        var policy = await CliAsync(TestSecurity.AdminKeyFile, "borrow-policy", code, "--max-count", "2", "--max-duration", "P7D", "--server", _primary.Url.ToString());
        Assert.True(policy.Exit == ExitCodes.Ok, policy.Err);
        Assert.Contains("offline borrow: at most 2 seats, each at most P7D (policy version 1); borrowed now 0", policy.Out);
        foreach (var bad in new[] { """{"maxCount":2,"maxDuration":"P91D"}""", """{"maxCount":5,"maxDuration":"P7D"}""", """{"maxCount":2,"maxDuration":"a week"}""", """{"maxDuration":"P7D"}""" })
        {
            Api.AssertProblem(await admin.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/borrow-policy", bad), HttpStatusCode.BadRequest, "invalid-request");
        }

        Api.AssertProblem(await client.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/borrow-policy", """{"maxCount":4,"maxDuration":"P7D"}"""), HttpStatusCode.Forbidden, "forbidden");
        var cliForbidden = await CliAsync(_clientKeyFile, "borrow-policy", code, "--max-count", "4", "--max-duration", "P7D", "--server", _primary.Url.ToString());
        Assert.Equal(ExitCodes.Refused, cliForbidden.Exit);
        Assert.Equal((2, 1L), OfflineBorrow(await LicenseAsync(admin, code)));

        // Bad durations and a borrow beyond the policy are refused; a client credential borrows through the CLI.
        Api.AssertProblem(await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"laptop","count":1,"borrowFor":"P0D"}"""), HttpStatusCode.BadRequest, "invalid-request");
        Api.AssertProblem(await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"laptop","count":1,"borrowFor":"3 days"}"""), HttpStatusCode.BadRequest, "invalid-request");
        Api.AssertProblem(await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"laptop","count":1,"borrowFor":"P8D"}"""), HttpStatusCode.Conflict, "borrow-limit");
        var borrow = await CliAsync(_clientKeyFile, "borrow", code, "--count", "2", "--for", "P3D", "--client-id", "laptop", "--server", _second.Url.ToString());
        Assert.True(borrow.Exit == ExitCodes.Ok, borrow.Err);
        var match = BorrowedLine().Match(borrow.Out);
        Assert.True(match.Success, borrow.Out);
        var leaseId = match.Groups["id"].Value;
        Assert.True(DateTimeOffset.Parse(match.Groups["until"].Value, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddDays(2.9));

        // The limit is pool-wide: one more seat borrowed at the primary would pass MaxCount 2.
        Api.AssertProblem(await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"laptop2","count":1,"borrowFor":"P1D"}"""), HttpStatusCode.Conflict, "borrow-limit");

        await _second.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        await Until.ValueAsync(() => LicenseAsync(admin, code), l => (string?)l.Share("second")["status"] == "Down", TimeSpan.FromSeconds(60), "second to be down");
        await DelayUntilAsync(killedAt + 3 * Ttl);

        // Three TTLs after the kill the leader still holds the borrowed seats: the primary cannot grant 3 of 4.
        var held = await LicenseAsync(admin, code);
        Assert.Equal(2, held.Share("second").Int("held"));
        Assert.Equal(2, held["offlineBorrow"]!.Int("borrowed"));
        Api.AssertProblem(await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"desk","count":3}"""), HttpStatusCode.Conflict, "no-allocation");

        // Returned early at the primary (the laptop is back): the leader frees the seat and the permit.
        var returned = await CliAsync(_clientKeyFile, "return", code, leaseId, "--server-id", "second", "--client-id", "laptop", "--server", _primary.Url.ToString());
        Assert.True(returned.Exit == ExitCodes.Ok, returned.Err);
        var after = await LicenseAsync(admin, code);
        Assert.Equal((0, 0), (after.Share("second").Int("held"), after["offlineBorrow"]!.Int("borrowed")));
        var desk = await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"desk","count":3}""");
        Assert.True(desk.Status == HttpStatusCode.Created, desk.Body?.ToJsonString());
        Assert.Equal(4, after["servers"]!.AsArray().Sum(s => s!.Int("allocated")) + after.Int("freePool"));

        // A second return of the same lease finds nothing: lease-unknown, exit 3.
        var again = await CliAsync(_clientKeyFile, "return", code, leaseId, "--server-id", "second", "--client-id", "laptop", "--server", _primary.Url.ToString());
        Assert.NotEqual(ExitCodes.Ok, again.Exit);
    }

    [Fact]
    public async Task The_sdk_borrows_a_lease_that_is_not_heartbeated_and_returns_it()
    {
        var code = PoolFixture.NewCode();
        using var admin = _primary.CreateHttpClient();
        (await admin.PostAsJsonAsync("api/v1/licenses", new { grant = TestSecurity.CodeGrant(code, 2, "CAD") })).EnsureSuccessStatusCode();
        await using var services = new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = [_primary.Url];
            o.ApiKey = TestSecurity.ClientKey;
            o.ClientId = "sdk-laptop";
        }).Services.BuildServiceProvider();
        var sdk = services.GetRequiredService<LicensingClient>();
        var refused = await Assert.ThrowsAsync<LicensingProblemException>(() => sdk.BorrowAsync(code, 1, TimeSpan.FromHours(8)));
        Assert.Equal("borrow-limit", refused.Error);   // off until an admin enables it

        await using var adminServices = new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = [_primary.Url];
            o.ApiKey = TestSecurity.AdminKey;
        }).Services.BuildServiceProvider();
        var view = await adminServices.GetRequiredService<LicensingClient>().SetOfflineBorrowPolicyAsync(code, 1, TimeSpan.FromDays(1));
        Assert.Equal(new OfflineBorrowInfo(1, "P1D", 1, 0, Linger: "PT0S"), view.OfflineBorrow);

        var lease = await sdk.BorrowAsync(code, 1, TimeSpan.FromHours(8));
        Assert.True(lease.Borrowed);
        Assert.Equal(lease.ExpiresAt, lease.RenewAfter);
        Assert.InRange(lease.TtlSeconds!.Value, 8 * 3600 - 60, 8 * 3600);

        // Past a lease TTL without any heartbeat it is still held, and the admin's lease list marks it.
        await Task.Delay(Ttl * 1.5);
        var listed = (await admin.GetFromJsonAsync<JsonArray>($"api/v1/licenses/{code}/leases"))!;
        Assert.Equal((lease.LeaseId, true), ((string?)listed.Single()!["leaseId"], (bool)listed.Single()!["borrowed"]!));
        Assert.Equal(1, (await LicenseAsync(admin, code))["offlineBorrow"]!.Int("borrowed"));
        Assert.Equal(1, (await LicenseAsync(admin, code)).Share("primary").Int("inUse"));
        await sdk.ReturnAsync(lease);
        var after = await LicenseAsync(admin, code);
        Assert.Equal((0, 0), (after["offlineBorrow"]!.Int("borrowed"), after.Share("primary").Int("inUse")));

        // The usage log tells an offline borrow from a checkout: its end, then its return.
        var events = await Until.ValueAsync(() => admin.GetFromJsonAsync<JsonArray>($"api/v1/usage?code={code}&kind=checkout,checkin,denial"),
            e => e!.Count >= 3, TimeSpan.FromSeconds(15), "the borrow's usage events");
        Assert.Contains(events!, e => (string?)e!["kind"] == "checkout" && ((string?)e["detail"])?.StartsWith("offline borrow until ", StringComparison.Ordinal) == true);
        Assert.Contains(events!, e => (string?)e!["kind"] == "checkin" && (string?)e["detail"] == "offline borrow returned");
        Assert.Contains(events!, e => (string?)e!["kind"] == "denial" && (string?)e["detail"] == "borrow-limit");
    }

    private static (int MaxCount, long Version) OfflineBorrow(JsonObject license) =>
        (license["offlineBorrow"]!.Int("maxCount"), license["offlineBorrow"]!["version"]!.GetValue<long>());

    private static async Task<JsonObject> LicenseAsync(HttpClient http, string code) =>
        (await http.GetFromJsonAsync<JsonObject>($"api/v1/licenses/{code}"))!;

    private static async Task<(int Exit, string Out, string Err)> CliAsync(string keyFile, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Cli.Cli.RunAsync([.. args, "--key-file", keyFile], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [GeneratedRegex(@"Borrowed lease (?<id>\S+) .* until (?<until>\S+ \S+)")]
    private static partial Regex BorrowedLine();

    /// <summary>Lets time pass until <paramref name="moment"/> (a moment already past: at once).</summary>
    private static Task DelayUntilAsync(DateTimeOffset moment) =>
        moment > DateTimeOffset.UtcNow ? Task.Delay(moment - DateTimeOffset.UtcNow) : Task.CompletedTask;
}
