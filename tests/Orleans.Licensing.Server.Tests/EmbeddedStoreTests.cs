using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>The embedded store: license codes, distribution and leases survive a restart of the process.</summary>
[Trait("Category", "Process")]
public sealed class EmbeddedStoreTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        PoolFixture.TryDelete(_data);
        return Task.CompletedTask;
    }

    [Fact, Trait("Claim", "33")]
    public async Task Codes_distribution_and_leases_survive_a_crash_and_restart()
    {
        var settings = new Dictionary<string, string> { ["Licensing__LeaseTtl"] = "00:05:00" };
        var code = PoolFixture.NewCode();
        string leaseId;
        JsonObject before;
        await using (var server = new ServerProcess("solo", _data, settings: settings))
        {
            await server.StartAsync();
            using var http = server.CreateHttpClient();
            (await http.PostAsJsonAsync("api/v1/licenses", new { grant = TestSecurity.CodeGrant(code, 10, "CAD") })).EnsureSuccessStatusCode();
            (await http.PutAsJsonAsync($"api/v1/licenses/{code}/distribution", new { shares = new Dictionary<string, int> { ["solo"] = 7 }, defaultThreshold = 0.9 })).EnsureSuccessStatusCode();
            var checkout = await http.PostAsJsonAsync($"api/v1/licenses/{code}/leases", new { clientId = "c", count = 2 });
            Assert.Equal(HttpStatusCode.Created, checkout.StatusCode);
            leaseId = (string)(await checkout.Content.ReadFromJsonAsync<JsonObject>())!["leaseId"]!;
            before = (await http.GetFromJsonAsync<JsonObject>($"api/v1/licenses/{code}"))!;

            // A crash: an acknowledged checkout must already be durable.
            await server.KillAsync();
        }

        await using (var server = new ServerProcess("solo", _data, settings: settings))
        {
            await server.StartAsync();
            using var http = server.CreateHttpClient();
            var after = (await http.GetFromJsonAsync<JsonObject>($"api/v1/licenses/{code}"))!;

            Assert.Equal(10, after.Int("seats"));
            Assert.Equal(3, after.Int("freePool"));
            var share = after.Share("solo");
            Assert.Equal(7, share.Int("allocated"));
            Assert.Equal(7, share.Int("baseShare"));
            Assert.Equal(0.9, share["threshold"]!.GetValue<double>());
            Assert.Equal(2, share.Int("inUse"));
            Assert.True(after.Int("version") >= before.Int("version"));
            var codes = (await http.GetFromJsonAsync<JsonArray>("api/v1/licenses"))!;
            Assert.Single(codes, l => (string?)l!["code"] == code);

            // The lease itself is there: it renews as held, and checks in once.
            var renewed = await http.PutAsJsonAsync($"api/v1/licenses/{code}/leases/{leaseId}", new { clientId = "c", count = 2, serverId = "solo" });
            Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"api/v1/licenses/{code}/leases/{leaseId}?clientId=c")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync($"api/v1/licenses/{code}/leases/{leaseId}?clientId=c")).StatusCode);
            await server.StopAsync();
        }
    }

    [Fact]
    public async Task A_graceful_restart_keeps_everything_and_serves_again()
    {
        var code = PoolFixture.NewCode();
        await using (var server = new ServerProcess("solo", _data))
        {
            await server.StartAsync();
            using var http = server.CreateHttpClient();
            (await http.PostAsJsonAsync("api/v1/licenses", new { grant = TestSecurity.CodeGrant(code, 4, "CAD") })).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync($"api/v1/licenses/{code}/allocations", new { grant = TestSecurity.AllocationsGrant(code, 2) })).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync($"api/v1/licenses/{code}/leases", new { clientId = "c", count = 1 })).EnsureSuccessStatusCode();
            await server.StopAsync();
            Assert.Contains("handed 3 unused allocations", server.Log);
        }

        await using (var server = new ServerProcess("solo", _data))
        {
            await server.StartAsync();
            using var http = server.CreateHttpClient();
            var after = (await http.GetFromJsonAsync<JsonObject>($"api/v1/licenses/{code}"))!;
            Assert.Equal(6, after.Int("seats"));
            Assert.Equal(1, after.Share("solo").Int("inUse"));
            Assert.Equal(6, after.Share("solo").Int("allocated") + after.Int("freePool"));

            // The allocations handed back on shutdown are borrowed again on demand.
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync($"api/v1/licenses/{code}/leases", new { clientId = "c", count = 1 })).StatusCode);
            }

            Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsJsonAsync($"api/v1/licenses/{code}/leases", new { clientId = "c", count = 1 })).StatusCode);
            await server.StopAsync();
        }
    }
}
