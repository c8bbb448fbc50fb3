using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// The sample ASP.NET frontend, an Orleans client, asks the pool through the public contract with its HTTP caller's
/// credential: without one, or with a role or client ids that do not cover the call, it is refused as REST refuses.
/// </summary>
[Collection(PoolCollection.Name), Trait("Category", "Process")]
public sealed class FrontendTests(PoolFixture pool)
{
    [Fact]
    public async Task A_frontend_reads_checks_out_and_checks_in_with_its_callers_credential()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 3);
        await using var frontend = new ServerProcess("frontend", pool.DataPath,
            settings: new Dictionary<string, string> { ["Frontend__Gateways"] = $"127.0.0.1:{pool.Server.GatewayPort}" },
            app: "Orleans.Licensing.Frontend", readyPath: "healthz");
        await frontend.StartAsync();
        using var http = frontend.CreateHttpClient(TestRole.Client);
        using var anonymous = frontend.CreateHttpClient(TestRole.None);
        using var reader = frontend.CreateHttpClient(TestRole.Reader);
        using var tenantB = frontend.CreateHttpClient(TestRole.TenantB);

        await AssertProblemAsync(await anonymous.GetAsync("pool"), HttpStatusCode.Unauthorized, LicensingErrors.Unauthenticated);
        await AssertProblemAsync(await anonymous.PostAsync($"pool/{code}/checkout?clientId=web&count=1", null), HttpStatusCode.Unauthorized, LicensingErrors.Unauthenticated);
        await AssertProblemAsync(await reader.PostAsync($"pool/{code}/checkout?clientId=web&count=1", null), HttpStatusCode.Forbidden, LicensingErrors.Forbidden);
        await AssertProblemAsync(await tenantB.PostAsync($"pool/{code}/checkout?clientId=web&count=1", null), HttpStatusCode.Forbidden, LicensingErrors.ForbiddenClient);
        Assert.Equal(0, await pool.InUseAsync(code));

        var codes = await reader.GetFromJsonAsync<string[]>("pool");
        Assert.Contains(code, codes!);
        var distribution = (await reader.GetFromJsonAsync<JsonObject>($"pool/{code}"))!;
        Assert.Equal(3, distribution.Int("total"));
        Assert.Equal(PoolFixture.ServerId, (string?)distribution["leaderServerId"]);

        var checkout = await http.PostAsync($"pool/{code}/checkout?clientId=web&count=2", null);
        Assert.Equal(HttpStatusCode.OK, checkout.StatusCode);
        var lease = (await checkout.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(2, lease.Int("count"));
        Assert.Equal(2, await pool.InUseAsync(code));

        await AssertProblemAsync(await http.PostAsync($"pool/{code}/checkout?clientId=web&count=2", null), HttpStatusCode.Conflict, LicensingErrors.NoAllocation);
        await AssertProblemAsync(await reader.GetAsync("pool/NO-SUCH-CODE"), HttpStatusCode.NotFound, LicensingErrors.UnknownLicense);

        var path = $"pool/{code}/leases/{lease["leaseId"]}?serverId={lease["serverId"]}&clientId=web";
        await AssertProblemAsync(await anonymous.DeleteAsync(path), HttpStatusCode.Unauthorized, LicensingErrors.Unauthenticated);
        await AssertProblemAsync(await tenantB.DeleteAsync(path), HttpStatusCode.Forbidden, LicensingErrors.ForbiddenClient);
        Assert.Equal(2, await pool.InUseAsync(code));
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync(path)).StatusCode);
        Assert.Equal(0, await pool.InUseAsync(code));
        await frontend.StopAsync();
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status} {error}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(Api.ProblemBase + error, (string?)JsonNode.Parse(body)!["type"]);
    }
}
