using System.Net;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests;

/// <summary>Checkout, heartbeat and checkin over real HTTP against a real license server.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Process")]
public sealed class LeaseApiTests(PoolFixture pool)
{
    private HttpClient Http => pool.Http;

    [Fact, Trait("Claim", "1")]
    public async Task Checkout_grants_a_lease_until_the_allocations_run_out()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 3);

        var (status, lease, response) = await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"workstation-7","count":2}""");

        Assert.Equal(HttpStatusCode.Created, status);
        var leaseId = (string)lease!["leaseId"]!;
        Assert.Matches("^[0-9a-f]{32}$", leaseId);
        Assert.Equal($"/api/v1/licenses/{code}/leases/{leaseId}", response.Headers.Location?.OriginalString);
        Assert.Equal(code, (string?)lease["code"]);
        Assert.Equal(2, lease.Int("count"));
        Assert.Equal(PoolFixture.ServerId, (string?)lease["serverId"]);
        var expiresAt = lease["expiresAt"]!.GetValue<DateTimeOffset>();
        var renewAfter = lease["renewAfter"]!.GetValue<DateTimeOffset>();
        Assert.True(renewAfter < expiresAt);
        Assert.True(expiresAt > DateTimeOffset.UtcNow);
        // The durations the SDK schedules by (issue 9, item 5): the server's own clock, so they match its absolute times.
        var ttl = lease["ttlSeconds"]!.GetValue<double>();
        var renewIn = lease["renewAfterSeconds"]!.GetValue<double>();
        Assert.True(renewIn > 0 && renewIn < ttl, $"renewAfterSeconds {renewIn}, ttlSeconds {ttl}");
        Assert.InRange((expiresAt - renewAfter).TotalSeconds - (ttl - renewIn), -0.01, 0.01);
        Assert.Equal(2, await pool.InUseAsync(code));

        AssertProblem(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"workstation-8","count":2}"""), HttpStatusCode.Conflict, "no-allocation");
        Assert.Equal(2, await pool.InUseAsync(code));

        var last = await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"workstation-8","count":1}""");
        Assert.Equal(HttpStatusCode.Created, last.Status);
        Assert.Equal(3, await pool.InUseAsync(code));
        AssertProblem(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"workstation-9","count":1}"""), HttpStatusCode.Conflict, "no-allocation");
        Assert.Equal(3, await pool.InUseAsync(code));
    }

    [Fact]
    public async Task A_checkout_retried_with_its_lease_id_is_granted_once()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 3);
        var leaseId = Guid.NewGuid().ToString("N");
        var body = $$"""{"clientId":"c","count":2,"leaseId":"{{leaseId}}"}""";

        var first = await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", body);
        var retry = await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", body);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, retry.Status);
        Assert.Equal(leaseId, (string?)retry.Body!["leaseId"]);
        Assert.Equal(2, await pool.InUseAsync(code));
        AssertProblem(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", $$"""{"clientId":"c","count":1,"leaseId":"{{leaseId}}"}"""), HttpStatusCode.Conflict, "conflict");
    }

    [Theory]
    [InlineData("""{"clientId":"c","count":0}""")]
    [InlineData("""{"clientId":"c","count":-1}""")]
    [InlineData("""{"clientId":"c","count":4}""")]
    [InlineData("""{"clientId":"c","count":2147483647}""")]
    [InlineData("""{"clientId":"c","count":2147483648}""")]
    [InlineData("""{"clientId":"","count":1}""")]
    [InlineData("""{"count":1}""")]
    [InlineData("""{"clientId":"c","count":1,"leaseId":""}""")]
    [InlineData("""{"clientId":"c","count":"one"}""")]
    [InlineData("""{"clientId":"c","count":"1"}""")]
    [InlineData("""{"clientId":"c","count":null}""")]
    [InlineData("""{"clientId":42,"count":1}""")]
    [InlineData("""{"clientId":"c",""")]
    public async Task Invalid_checkouts_are_refused_and_take_no_allocation(string json)
    {
        var code = PoolFixture.NewCode();
        var before = await pool.AddLicenseAsync(code, 3);

        AssertProblem(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", json), HttpStatusCode.BadRequest, "invalid-request");

        var after = await pool.GetLicenseAsync(code);
        Assert.Equal(0, after.Share(PoolFixture.ServerId).Int("inUse"));
        Assert.Equal(before.Int("version"), after.Int("version"));
    }

    [Fact]
    public async Task A_heartbeat_renews_the_lease()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 3);
        var lease = (await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c","count":2}""")).Body!;
        var leaseId = (string)lease["leaseId"]!;
        await Until.TrueAsync(() => Task.FromResult(DateTimeOffset.UtcNow > lease["expiresAt"]!.GetValue<DateTimeOffset>() - PoolFixture.LeaseTtl + TimeSpan.FromMilliseconds(50)), TimeSpan.FromSeconds(5), "time to pass");

        var (status, renewed, _) = await Http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{leaseId}", """{"clientId":"c","count":2,"serverId":"alpha"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(leaseId, (string?)renewed!["leaseId"]);
        Assert.Equal(2, renewed.Int("count"));
        Assert.Equal(PoolFixture.ServerId, (string?)renewed["serverId"]);
        Assert.True(renewed["expiresAt"]!.GetValue<DateTimeOffset>() > lease["expiresAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(2, await pool.InUseAsync(code));
    }

    [Theory]
    [InlineData("""{"clientId":"c","count":1,"serverId":"alpha"}""", HttpStatusCode.Conflict, "conflict")]
    [InlineData("""{"clientId":"other","count":2,"serverId":"alpha"}""", HttpStatusCode.Conflict, "conflict")]
    [InlineData("""{"clientId":"c","count":2,"serverId":"nowhere"}""", HttpStatusCode.NotFound, "lease-unknown")]
    [InlineData("""{"clientId":"c","count":2}""", HttpStatusCode.BadRequest, "invalid-request")]
    [InlineData("""{"clientId":"c","count":0,"serverId":"alpha"}""", HttpStatusCode.BadRequest, "invalid-request")]
    [InlineData("""{"clientId":"c","count":-2,"serverId":"alpha"}""", HttpStatusCode.BadRequest, "invalid-request")]
    [InlineData("""{"clientId":"c","count":99999999999,"serverId":"alpha"}""", HttpStatusCode.BadRequest, "invalid-request")]
    [InlineData("""{"clientId":"c","count":2,"serverId":"a/b"}""", HttpStatusCode.BadRequest, "invalid-request")]
    [InlineData("""{"clientId":"c","count":2,"serverId":"alpha""", HttpStatusCode.BadRequest, "invalid-request")]
    public async Task Bad_heartbeats_are_refused_and_leave_the_lease_as_it_was(string json, HttpStatusCode status, string error)
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 3);
        var leaseId = (string)(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c","count":2}""")).Body!["leaseId"]!;
        var before = await pool.GetLicenseAsync(code);

        AssertProblem(await Http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{leaseId}", json), status, error);

        var after = await pool.GetLicenseAsync(code);
        Assert.Equal(2, after.Share(PoolFixture.ServerId).Int("inUse"));
        Assert.Equal(before.Int("version"), after.Int("version"));
    }

    [Fact]
    public async Task Checkin_frees_the_allocations_and_a_second_checkin_is_lease_unknown()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 3);
        var leaseId = (string)(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c","count":3}""")).Body!["leaseId"]!;
        Assert.Equal(3, await pool.InUseAsync(code));

        // Only the client it was granted to checks a lease in; naming no client is a bad request.
        AssertProblem(await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{leaseId}?clientId=intruder"), HttpStatusCode.NotFound, "lease-unknown");
        AssertProblem(await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{leaseId}"), HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal(3, await pool.InUseAsync(code));
        var (status, body, _) = await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{leaseId}?clientId=c");

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Null(body);
        Assert.Equal(0, await pool.InUseAsync(code));
        AssertProblem(await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{leaseId}?clientId=c"), HttpStatusCode.NotFound, "lease-unknown");
        AssertProblem(await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{Guid.NewGuid():N}?clientId=c"), HttpStatusCode.NotFound, "lease-unknown");
        AssertProblem(await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{leaseId}?clientId=c&serverId=nowhere"), HttpStatusCode.NotFound, "lease-unknown");
        AssertProblem(await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{new string('x', 129)}?clientId=c"), HttpStatusCode.BadRequest, "invalid-request");

        var again = await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c","count":3}""");
        Assert.Equal(HttpStatusCode.Created, again.Status);
    }

    [Fact]
    public async Task A_lease_without_heartbeats_expires_and_its_allocations_return()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 2);
        var leaseId = (string)(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c","count":2}""")).Body!["leaseId"]!;
        Assert.Equal(2, await pool.InUseAsync(code));

        await Until.ValueAsync(() => pool.InUseAsync(code), inUse => inUse == 0, TimeSpan.FromSeconds(30), "the lease to expire");

        AssertProblem(await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{leaseId}?clientId=c"), HttpStatusCode.NotFound, "lease-unknown");
    }
}
