using System.Net;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>A client credential renews, fails over and checks in only the leases of the clients it covers.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class ClientCredentialTests(PoolFixture pool)
{
    [Fact, Trait("Claim", "1")]
    public async Task A_tenant_key_uses_its_own_clients_leases_and_cannot_touch_anyone_elses()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 4);
        using var tenant = pool.Server.CreateHttpClient(TestRole.TenantB);
        using var other = pool.Server.CreateHttpClient(TestRole.Client);

        var mine = await tenant.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"tenant-b-ws1","count":1}""");
        Assert.Equal(HttpStatusCode.Created, mine.Status);
        var theirs = await other.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"acme-ws7","count":2}""");
        Assert.Equal(HttpStatusCode.Created, theirs.Status);
        var theirId = (string)theirs.Body!["leaseId"]!;
        var myId = (string)mine.Body!["leaseId"]!;

        // Checking out, renewing, failing over or checking in as a client the key does not cover: 403, nothing changes.
        var table = (await pool.GetLicenseAsync(code)).ToJsonString();
        AssertProblem(await tenant.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"acme-ws8","count":1}"""), HttpStatusCode.Forbidden, "forbidden-client");
        AssertProblem(await tenant.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{theirId}", """{"clientId":"acme-ws7","count":2,"serverId":"alpha"}"""), HttpStatusCode.Forbidden, "forbidden-client");
        AssertProblem(await tenant.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{theirId}", """{"clientId":"acme-ws7","count":2,"serverId":"beta"}"""), HttpStatusCode.Forbidden, "forbidden-client");
        AssertProblem(await tenant.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{theirId}?clientId=acme-ws7"), HttpStatusCode.Forbidden, "forbidden-client");
        // Naming a covered client for someone else's lease does not help: the lease is checked against its holder.
        AssertProblem(await tenant.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{theirId}?clientId=tenant-b-ws1"), HttpStatusCode.NotFound, "lease-unknown");
        Assert.Equal(table, (await pool.GetLicenseAsync(code)).ToJsonString());
        Assert.Equal(3, await pool.InUseAsync(code));

        // Its own lease: renewed and checked in.
        Assert.Equal(HttpStatusCode.OK, (await tenant.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{myId}", """{"clientId":"tenant-b-ws1","count":1,"serverId":"alpha"}""")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{myId}?clientId=tenant-b-ws1")).Status);
        Assert.Equal(2, await pool.InUseAsync(code));

        // An admin may check in any client's lease (lmremove): a stuck seat comes back.
        var leases = (await pool.Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}/leases")).Body!.AsArray();
        var listed = Assert.Single(leases)!;
        Assert.Equal(theirId, (string?)listed["leaseId"]);
        Assert.Equal("acme-ws7", (string?)listed["clientId"]);
        Assert.Equal(2, listed.Int("count"));
        Assert.Equal(HttpStatusCode.NoContent, (await pool.Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{theirId}?clientId=acme-ws7")).Status);
        Assert.Equal(0, await pool.InUseAsync(code));
    }

    [Fact]
    public async Task A_checkout_may_not_ask_for_more_than_the_per_request_limit()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 3);
        using var client = pool.Server.CreateHttpClient(TestRole.Client);
        AssertProblem(await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c","count":10001}"""), HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal(0, await pool.InUseAsync(code));
    }
}
