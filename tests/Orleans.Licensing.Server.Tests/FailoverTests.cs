using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// Two real license server processes in one pool (localhost clustering through the primary's silo endpoint, one
/// shared SQLite store). The server a client uses stops; the client's SDK fails over and the other server adopts the
/// lease with the same id and count (claims 13-15).
/// </summary>
[Trait("Category", "Process")]
public sealed class FailoverTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string> _settings = new() { ["Licensing__LeaseTtl"] = "00:00:09", ["Licensing__DiagnosticsEndpoint"] = "true" };
    private ServerProcess _primary = null!;
    private ServerProcess _second = null!;

    public async Task InitializeAsync()
    {
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
    }

    [Fact, Trait("Claim", "13"), Trait("Claim", "14")]
    public async Task A_lease_fails_over_when_its_server_stops_gracefully()
    {
        var code = PoolFixture.NewCode();
        using var http = _primary.CreateHttpClient();
        await AddEvenLicenseAsync(http, code, 10);
        await using var services = ClientServices(_second.Url, _primary.Url);
        var failedOver = new TaskCompletionSource<LeaseInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lost = false;
        await using var lease = await services.GetRequiredService<LicensingClient>().AcquireAsync(code, 3);
        lease.Renewed += (_, e) => { if (e.FailedOver) failedOver.TrySetResult(e.Lease); };
        lease.Lost += (_, _) => lost = true;
        Assert.Equal("second", lease.ServerId);
        var leaseId = lease.LeaseId;

        // Stop right after a renewal, so that the next heartbeat comes after the handback (a third of the TTL later).
        await RenewedAsync(lease);
        await _second.StopAsync();

        // Graceful shutdown handed the second server's unused allocations (5 - 3) back to the free pool.
        var afterStop = await Until.ValueAsync(() => GetAsync(http, code), l => Row(l, "second")["status"]!.ToString() == "Down", TimeSpan.FromSeconds(30), "second to be down");
        Assert.Equal(2, afterStop.Int("freePool"));
        Assert.Equal(3, Row(afterStop, "second").Int("allocated"));
        Assert.Contains("handed 2 unused allocations", _second.Log);

        // A request only the stopped server could serve is "unavailable" (503), so that clients try elsewhere.
        var atStopped = await http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{Guid.NewGuid():N}?clientId=c&serverId=second");
        Api.AssertProblem(atStopped, System.Net.HttpStatusCode.ServiceUnavailable, "unavailable");

        var adopted = await failedOver.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(leaseId, adopted.LeaseId);
        Assert.Equal(3, adopted.Count);
        Assert.Equal("primary", adopted.ServerId);
        Assert.Equal("primary", lease.ServerId);
        Assert.Equal(_primary.Url, lease.Server);
        Assert.False(lost);

        var after = await GetAsync(http, code);
        Assert.Equal(3, Row(after, "primary").Int("inUse"));
        Assert.Equal(0, Row(after, "second").Int("held"));
        AssertTotal(after, 10);

        // The adopted lease keeps renewing at its new server and checks in there.
        var renewals = lease.Renewals;
        await Until.TrueAsync(() => Task.FromResult(lease.Renewals > renewals), TimeSpan.FromSeconds(20), "a renewal after fail-over");
        await lease.DisposeAsync();
        Assert.Equal(0, Row(await GetAsync(http, code), "primary").Int("inUse"));
    }

    [Fact, Trait("Claim", "13")]
    public async Task A_lease_fails_over_when_its_server_crashes()
    {
        var code = PoolFixture.NewCode();
        using var http = _primary.CreateHttpClient();
        await AddEvenLicenseAsync(http, code, 10);
        await using var services = ClientServices(_second.Url, _primary.Url);
        var failedOver = new TaskCompletionSource<LeaseInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var lease = await services.GetRequiredService<LicensingClient>().AcquireAsync(code, 4);
        lease.Renewed += (_, e) => { if (e.FailedOver) failedOver.TrySetResult(e.Lease); };
        Assert.Equal("second", lease.ServerId);

        await _second.KillAsync();

        var adopted = await failedOver.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(lease.LeaseId, adopted.LeaseId);
        Assert.Equal(4, adopted.Count);
        Assert.Equal("primary", adopted.ServerId);
        Assert.False(lease.IsLost);
        var after = await GetAsync(http, code);
        Assert.Equal(4, Row(after, "primary").Int("inUse"));
        AssertTotal(after, 10);
    }

    /// <summary>
    /// Behind a Kubernetes Service a client's heartbeat lands on any server: one that is not the lease's forwards it to
    /// the lease's server inside the cluster, which renews it (no adoption, no leader call), and a check-in naming
    /// that server goes to it without a leader call too; with that server killed, the same heartbeat fails over as before.
    /// </summary>
    [Fact, Trait("Claim", "13")]
    public async Task A_heartbeat_at_another_server_renews_at_the_leases_server_while_it_is_up_and_fails_over_once_it_is_killed()
    {
        var code = PoolFixture.NewCode();
        using var http = _primary.CreateHttpClient();
        using var atSecond = _second.CreateHttpClient();
        await AddEvenLicenseAsync(http, code, 10);
        var checkout = await atSecond.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c1","count":3}""");
        Assert.Equal(System.Net.HttpStatusCode.Created, checkout.Status);
        var leaseId = (string)checkout.Body!["leaseId"]!;
        var expires = (DateTimeOffset)checkout.Body["expiresAt"]!;
        var heartbeat = $$"""{"clientId":"c1","count":3,"serverId":"second"}""";
        var callsBefore = await PoolCallsAsync(http);

        for (var i = 0; i < 5; i++)
        {
            var renewed = await http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{leaseId}", heartbeat);
            Assert.True(renewed.Status == System.Net.HttpStatusCode.OK, $"heartbeat {i}: {(int)renewed.Status} {renewed.Body?.ToJsonString()}");
            Assert.Equal("second", (string?)renewed.Body!["serverId"]);
            Assert.True((DateTimeOffset)renewed.Body["expiresAt"]! >= expires);
        }

        // A check-in at the primary naming the second server goes to the second's grain, without the leader either.
        var other = await atSecond.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c2","count":1}""");
        Assert.Equal(System.Net.HttpStatusCode.Created, other.Status);
        var checkin = await http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{(string)other.Body!["leaseId"]!}?clientId=c2&serverId=second");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, checkin.Status);

        // No adoption, no call of the receiving server to the leader; the lease is still the second server's.
        var callsAfter = await PoolCallsAsync(http);
        Assert.Equal(callsBefore.GetValueOrDefault("Borrow"), callsAfter.GetValueOrDefault("Borrow"));
        Assert.Equal(callsBefore.GetValueOrDefault("GetDistribution"), callsAfter.GetValueOrDefault("GetDistribution"));
        var view = await GetAsync(http, code);
        Assert.Equal(3, Row(view, "second").Int("inUse"));
        Assert.Equal(0, Row(view, "primary").Int("inUse"));

        // The holder's refusal is passed on as it is, not turned into an adoption: wrong count, unknown lease.
        var conflict = await http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{leaseId}", """{"clientId":"c1","count":2,"serverId":"second"}""");
        Assert.True(conflict.Status is System.Net.HttpStatusCode.Conflict or System.Net.HttpStatusCode.NotFound, $"{(int)conflict.Status} {conflict.Body?.ToJsonString()}");
        var unknown = await http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{Guid.NewGuid():N}", heartbeat);
        Api.AssertProblem(unknown, System.Net.HttpStatusCode.NotFound, "lease-unknown");
        Assert.Equal(0, Row(await GetAsync(http, code), "primary").Int("inUse"));

        // The lease's server crashes: the same heartbeat now fails over to the primary (503 "retry" while it cannot yet).
        await _second.KillAsync();
        var adopted = await Until.ValueAsync(
            () => http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{leaseId}", heartbeat),
            a => a.Status != System.Net.HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30), "the fail-over update to be answered");
        Assert.True(adopted.Status == System.Net.HttpStatusCode.OK, $"{(int)adopted.Status} {adopted.Body?.ToJsonString()}");
        Assert.Equal("primary", (string?)adopted.Body!["serverId"]);
        Assert.Equal(leaseId, (string?)adopted.Body["leaseId"]);
        Assert.Equal(3, Row(await GetAsync(http, code), "primary").Int("inUse"));
    }

    private static async Task<Dictionary<string, long>> PoolCallsAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonObject>("api/v1/diagnostics/counters"))!["poolCalls"]!.AsObject()
            .ToDictionary(p => p.Key, p => p.Value!.GetValue<long>());

    private static Task RenewedAsync(LicenseLease lease)
    {
        var renewed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lease.Renewed += (_, _) => renewed.TrySetResult();
        return renewed.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    private static async Task AddEvenLicenseAsync(HttpClient http, string code, int seats)
    {
        var added = await http.PostAsJsonAsync("api/v1/licenses", new { grant = TestSecurity.CodeGrant(code, seats, "CAD") });
        added.EnsureSuccessStatusCode();
        var license = (await added.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(seats / 2, Row(license, "primary").Int("allocated"));
        Assert.Equal(seats / 2, Row(license, "second").Int("allocated"));
    }

    private static async Task<JsonObject> GetAsync(HttpClient http, string code) =>
        (await http.GetFromJsonAsync<JsonObject>($"api/v1/licenses/{code}"))!;

    private static JsonNode Row(JsonNode license, string serverId) => license.Share(serverId);

    /// <summary>The conservation invariant (docs/safety.md): Σ allocated + free pool = total.</summary>
    private static void AssertTotal(JsonNode license, int total) =>
        Assert.Equal(total, license["servers"]!.AsArray().Sum(s => s!.Int("allocated")) + license.Int("freePool"));

    private static ServiceProvider ClientServices(params Uri[] servers) =>
        new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = servers;
            o.ApiKey = TestSecurity.ClientKey;
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
        }).Services.BuildServiceProvider();
}
