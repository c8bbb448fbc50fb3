using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>The sample ASP.NET frontend, an Orleans client, asks the pool through the grain interfaces.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Process")]
public sealed class FrontendTests(PoolFixture pool)
{
    [Fact]
    public async Task A_frontend_reads_checks_out_and_checks_in_through_the_grains()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 3);
        await using var frontend = new ServerProcess("frontend", pool.DataPath,
            settings: new Dictionary<string, string> { ["Frontend__Gateways"] = $"127.0.0.1:{pool.Server.GatewayPort}" },
            app: "Orleans.Licensing.Frontend", readyPath: "pool");
        await frontend.StartAsync();
        using var http = frontend.CreateHttpClient();

        var codes = await http.GetFromJsonAsync<string[]>("pool");
        Assert.Contains(code, codes!);
        var distribution = (await http.GetFromJsonAsync<JsonObject>($"pool/{code}"))!;
        Assert.Equal(3, distribution.Int("total"));
        Assert.Equal(PoolFixture.ServerId, (string?)distribution["leaderServerId"]);

        var checkout = await http.PostAsync($"pool/{code}/checkout?clientId=web&count=2", null);
        Assert.Equal(HttpStatusCode.OK, checkout.StatusCode);
        var lease = (await checkout.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(2, lease.Int("count"));
        Assert.Equal(2, await pool.InUseAsync(code));

        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync($"pool/{code}/checkout?clientId=web&count=2", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("pool/NO-SUCH-CODE")).StatusCode);

        var checkin = await http.DeleteAsync($"pool/{code}/leases/{lease["leaseId"]}?serverId={lease["serverId"]}&clientId=web");
        Assert.Equal(HttpStatusCode.NoContent, checkin.StatusCode);
        Assert.Equal(0, await pool.InUseAsync(code));
        await frontend.StopAsync();
    }
}
