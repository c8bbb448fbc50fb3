using System.Net;
using System.Text.Json.Nodes;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests.Admin;

/// <summary>
/// A release while the lease's server is dead (two real server processes, one SQLite store): the leader holds the
/// lease's seat for its client's fail-over, the lease list shows it <c>held-for-failover</c> at the dead server, and a
/// release is refused <c>lease-held</c> (409) and frees nothing; once the client failed over, the adopter releases it.
/// </summary>
[Trait("Category", "Process")]
public sealed class ReleaseFailoverTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string> _settings = new() { ["Licensing__LeaseTtl"] = "00:00:30" };
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

    [Fact]
    public async Task A_lease_of_a_dead_server_is_listed_as_held_and_its_release_is_refused_until_it_fails_over()
    {
        var code = PoolFixture.NewCode("HELDREL");
        using var admin = _primary.CreateHttpClient();
        var added = await admin.SendAsync(HttpMethod.Post, "api/v1/licenses",
            $$$"""{"grant":"{{{TestSecurity.CodeGrant(code, 4)}}}","distribution":{"shares":{"primary":1,"second":3},"defaultThreshold":1.0}}""");
        Assert.Equal(HttpStatusCode.Created, added.Status);
        using var atSecond = _second.CreateHttpClient(TestRole.Client);
        var lease = await atSecond.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"cad-5","count":3,"user":"eve","host":"ws-5"}""");
        Assert.Equal(HttpStatusCode.Created, lease.Status);
        var leaseId = (string)lease.Body!["leaseId"]!;

        await _second.KillAsync();
        await Until.ValueAsync(async () => (await admin.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}")).Body!, l => (string?)l.Share("second")["status"] == "Down",
            TimeSpan.FromSeconds(60), "the leader to see second down");

        using var reader = _primary.CreateHttpClient(TestRole.Reader);
        var listed = (await reader.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}/leases")).Body!.AsArray();
        var held = Assert.Single(listed)!;
        Assert.Equal((leaseId, "cad-5", 3, "second", "held-for-failover"),
            ((string?)held["leaseId"], (string?)held["clientId"], held.Int("count"), (string?)held["serverId"], (string?)held["state"]));

        AssertProblem(await admin.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases/{leaseId}/release", """{"reason":"server died"}"""),
            HttpStatusCode.Conflict, "lease-held");
        var license = (await admin.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}")).Body!;
        Assert.Equal(3, license.Share("second").Int("held"));

        // The client fails over to the primary, which adopts the lease (with its owner); there it can be released.
        using var atPrimary = _primary.CreateHttpClient(TestRole.Client);
        var adopted = await atPrimary.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{leaseId}", """{"clientId":"cad-5","count":3,"serverId":"second","user":"eve","host":"ws-5"}""");
        Assert.True(adopted.Status == HttpStatusCode.OK, adopted.Body?.ToJsonString());
        var active = Assert.Single((await reader.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}/leases")).Body!.AsArray())!;
        Assert.Equal(("primary", "active", "eve"), ((string?)active["serverId"], (string?)active["state"], (string?)active["user"]));
        var released = await admin.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases/{leaseId}/release", """{"reason":"after fail-over"}""");
        Assert.Equal(HttpStatusCode.OK, released.Status);
        Assert.Equal("primary", (string?)released.Body!["serverId"]);
        Assert.Equal(0, (await admin.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}")).Body!.Share("primary").Int("inUse"));
    }
}
