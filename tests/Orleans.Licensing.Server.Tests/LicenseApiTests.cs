using System.Net;
using System.Text.Json.Nodes;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests;

/// <summary>License codes, allocations and distribution criteria over real HTTP against a real license server.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Process")]
public sealed class LicenseApiTests(PoolFixture pool)
{
    private HttpClient Http => pool.Http;

    [Fact, Trait("Claim", "11"), Trait("Claim", "1")]
    public async Task Adding_a_license_code_gives_its_seats_to_the_server()
    {
        var code = PoolFixture.NewCode();
        var (status, body, response) = await Http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{TestSecurity.CodeGrant(code, 10, "CAD")}}"}""");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal($"/api/v1/licenses/{code}", response.Headers.Location?.OriginalString);
        Assert.Equal(code, (string?)body!["code"]);
        Assert.Equal("CAD", (string?)body["product"]);
        Assert.Equal(10, body.Int("seats"));
        Assert.Equal(0, body.Int("freePool"));
        Assert.Equal(PoolFixture.ServerId, (string?)body["leader"]);
        var share = body.Share(PoolFixture.ServerId);
        Assert.Equal("Up", (string?)share["status"]);
        Assert.Equal(10, share.Int("allocated"));
        Assert.Equal(0, share.Int("inUse"));
        Assert.Equal(0.8, share["threshold"]!.GetValue<double>());

        var read = await pool.GetLicenseAsync(code);
        Assert.Equal(body.ToJsonString(), read.ToJsonString());
        var all = (await Http.SendAsync(HttpMethod.Get, "api/v1/licenses")).Body!.AsArray();
        Assert.Single(all, l => (string?)l!["code"] == code);
    }

    [Fact, Trait("Claim", "11")]
    public async Task Adding_the_same_code_again_is_idempotent_a_replayed_grant_is_refused_and_other_terms_conflict()
    {
        var code = PoolFixture.NewCode();
        var grant = TestSecurity.CodeGrant(code, 4);
        var first = (await Http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{grant}}"}""")).Body!;

        AssertProblem(await Http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{grant}}"}"""), HttpStatusCode.Conflict, "grant-replayed");

        var again = await Http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{TestSecurity.CodeGrant(code, 4)}}"}""");
        Assert.Equal(HttpStatusCode.Created, again.Status);
        Assert.Equal(first.Int("version"), again.Body!.Int("version"));

        var other = await Http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{TestSecurity.CodeGrant(code, 5)}}"}""");
        AssertProblem(other, HttpStatusCode.Conflict, "conflict");
        Assert.Equal(first.ToJsonString(), (await pool.GetLicenseAsync(code)).ToJsonString());
    }

    [Theory, Trait("Claim", "11")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"P","seats":0,"issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-malformed")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"P","seats":-3,"issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-malformed")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"P","seats":100000001,"issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-malformed")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"P","seats":99999999999999,"issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-malformed")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"","seats":3,"issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-malformed")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","seats":3,"issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-malformed")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"","product":"P","seats":3,"issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-malformed")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"a/b§","product":"P","seats":3,"issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-malformed")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"P","seats":"many","issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-malformed")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"P","seats":3,"issuedAt":"2026-01-01T00:00:00Z","expiresAt":"2020-01-01T00:00:00Z"}""", null, "grant-expired")]
    [InlineData("""{"kind":"allocations","grantId":"§","keyId":"test-vendor","code":"§","count":3,"issuedAt":"2026-01-01T00:00:00Z"}""", null, "grant-mismatch")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"P","seats":3,"issuedAt":"2026-01-01T00:00:00Z"}""", """{"even":true,"shares":{"alpha":1}}""", "invalid-request")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"P","seats":3,"issuedAt":"2026-01-01T00:00:00Z"}""", """{"shares":{"alpha":4}}""", "invalid-request")]
    [InlineData("""{"kind":"license-code","grantId":"§","keyId":"test-vendor","code":"§","product":"P","seats":3,"issuedAt":"2026-01-01T00:00:00Z"}""", """{"defaultThreshold":1.5}""", "invalid-request")]
    public async Task Invalid_license_code_grants_are_refused_and_change_nothing(string payload, string? distribution, string error)
    {
        var code = PoolFixture.NewCode();
        var before = (await Http.SendAsync(HttpMethod.Get, "api/v1/licenses")).Body!.AsArray().Count;
        var grant = TestSecurity.SignPayload(ForTestPool(payload.Replace("§", code)));

        var answer = await Http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{grant}}","distribution":{{distribution ?? "null"}}}""");

        AssertProblem(answer, error switch { "grant-expired" => HttpStatusCode.Forbidden, _ => HttpStatusCode.BadRequest }, error);
        AssertProblem(await Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}"), HttpStatusCode.NotFound, "unknown-license");
        Assert.Equal(before, (await Http.SendAsync(HttpMethod.Get, "api/v1/licenses")).Body!.AsArray().Count);
    }

    [Theory, Trait("Claim", "11")]
    [InlineData("""{"code":"§","product":"P","seats":3}""", "grant-malformed")]
    [InlineData("""{"grant":"olg1.e30.AAAA"}""", "grant-malformed")]
    [InlineData("""{"grant":"§"}""", "grant-malformed")]
    [InlineData("""{"grant":3}""", "invalid-request")]
    [InlineData("""{"grant":""", "invalid-request")]
    [InlineData("""not json""", "invalid-request")]
    [InlineData("""null""", "invalid-request")]
    [InlineData("""[]""", "invalid-request")]
    public async Task Bodies_without_a_valid_grant_are_refused_and_change_nothing(string template, string error)
    {
        var code = PoolFixture.NewCode();
        var before = (await Http.SendAsync(HttpMethod.Get, "api/v1/licenses")).Body!.AsArray().Count;

        var answer = await Http.SendAsync(HttpMethod.Post, "api/v1/licenses", template.Replace("§", code));

        AssertProblem(answer, HttpStatusCode.BadRequest, error);
        AssertProblem(await Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}"), HttpStatusCode.NotFound, "unknown-license");
        Assert.Equal(before, (await Http.SendAsync(HttpMethod.Get, "api/v1/licenses")).Body!.AsArray().Count);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_an_invalid_request()
    {
        var code = PoolFixture.NewCode();
        var answer = await Http.SendAsync(HttpMethod.Post, "api/v1/licenses", $"grant={TestSecurity.CodeGrant(code, 3)}", "application/x-www-form-urlencoded");
        AssertProblem(answer, HttpStatusCode.UnsupportedMediaType, "invalid-request");
        var noBody = await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/allocations");
        Assert.True(noBody.Status is HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType, noBody.Status.ToString());
        Assert.Equal(ProblemBase + "invalid-request", (string?)noBody.Body!["type"]);
        AssertProblem(await Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}"), HttpStatusCode.NotFound, "unknown-license");
    }

    [Fact, Trait("Claim", "9")]
    public async Task Added_allocations_go_to_the_free_pool()
    {
        var code = PoolFixture.NewCode();
        var before = await pool.AddLicenseAsync(code, 6);

        var grant = TestSecurity.AllocationsGrant(code, 4);
        var (status, body, _) = await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/allocations", $$"""{"grant":"{{grant}}"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(10, body!.Int("seats"));
        Assert.Equal(4, body!.Int("freePool"));
        Assert.Equal(6, body.Share(PoolFixture.ServerId).Int("allocated"));
        Assert.Equal(before.Int("version") + 1, body.Int("version"));

        // The same grant again adds nothing: a grant id applies once.
        AssertProblem(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/allocations", $$"""{"grant":"{{grant}}"}"""), HttpStatusCode.Conflict, "grant-replayed");
        Assert.Equal(body!.ToJsonString(), (await pool.GetLicenseAsync(code)).ToJsonString());
    }

    [Theory, Trait("Claim", "9")]
    [InlineData("""{"kind":"allocations","grantId":"g§","keyId":"test-vendor","code":"§","count":0,"issuedAt":"2026-01-01T00:00:00Z"}""", "grant-malformed")]
    [InlineData("""{"kind":"allocations","grantId":"g§","keyId":"test-vendor","code":"§","count":-5,"issuedAt":"2026-01-01T00:00:00Z"}""", "grant-malformed")]
    [InlineData("""{"kind":"allocations","grantId":"g§","keyId":"test-vendor","code":"§","count":100000001,"issuedAt":"2026-01-01T00:00:00Z"}""", "grant-malformed")]
    [InlineData("""{"kind":"allocations","grantId":"g§","keyId":"test-vendor","code":"§","count":4294967296,"issuedAt":"2026-01-01T00:00:00Z"}""", "grant-malformed")]
    [InlineData("""{"kind":"allocations","grantId":"g§","keyId":"test-vendor","code":"§","count":1.5,"issuedAt":"2026-01-01T00:00:00Z"}""", "grant-malformed")]
    [InlineData("""{"kind":"allocations","grantId":"g§","keyId":"test-vendor","code":"§","issuedAt":"2026-01-01T00:00:00Z"}""", "grant-malformed")]
    [InlineData("""{"kind":"allocations","grantId":"g§","keyId":"test-vendor","code":"other-code","count":2,"issuedAt":"2026-01-01T00:00:00Z"}""", "grant-mismatch")]
    [InlineData("""{"kind":"license-code","grantId":"g§","keyId":"test-vendor","code":"§","product":"P","seats":2,"issuedAt":"2026-01-01T00:00:00Z"}""", "grant-mismatch")]
    [InlineData("""{"kind":"allocations","grantId":"g§","keyId":"test-vendor","code":"§","count":2,"issuedAt":"2020-12-25T00:00:00Z","expiresAt":"2021-01-01T00:00:00Z"}""", "grant-expired")]
    [InlineData("""{"kind":"allocations","grantId":"g§","keyId":"retired-vendor","code":"§","count":2,"issuedAt":"2026-01-01T00:00:00Z"}""", "grant-untrusted-key")]
    public async Task Invalid_allocation_grants_are_refused_and_change_nothing(string payload, string error)
    {
        var code = PoolFixture.NewCode();
        var before = await pool.AddLicenseAsync(code, 6);
        var key = payload.Contains("retired-vendor") ? TestSecurity.RetiredVendor : TestSecurity.Vendor;
        var json = $$"""{"grant":"{{TestSecurity.SignPayload(ForTestPool(payload.Replace("§", code)), key)}}"}""";

        var status = error switch { "grant-expired" or "grant-untrusted-key" => HttpStatusCode.Forbidden, _ => HttpStatusCode.BadRequest };
        AssertProblem(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/allocations", json), status, error);

        Assert.Equal(before.ToJsonString(), (await pool.GetLicenseAsync(code)).ToJsonString());
    }

    /// <summary>The payload for the test servers' pool; an allocations grant without expiresAt gets a current apply window.</summary>
    private static string ForTestPool(string payload)
    {
        payload = payload.Replace("\"keyId\"", $"\"poolId\":\"{TestSecurity.PoolId}\",\"keyId\"");
        if (!payload.Contains("\"allocations\"") || payload.Contains("expiresAt")) return payload;
        var now = DateTimeOffset.UtcNow;
        return payload.Replace("\"issuedAt\":\"2026-01-01T00:00:00Z\"", $"\"issuedAt\":\"{now.AddMinutes(-1):O}\",\"expiresAt\":\"{now.AddDays(1):O}\"");
    }


    [Fact, Trait("Claim", "7")]
    public async Task Explicit_shares_and_thresholds_change_the_distribution()
    {
        var code = PoolFixture.NewCode();
        var before = await pool.AddLicenseAsync(code, 10);

        var (status, body, _) = await Http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/distribution",
            """{"shares":{"alpha":7},"defaultThreshold":0.5}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, body!.Int("freePool"));
        var share = body!.Share(PoolFixture.ServerId);
        Assert.Equal(7, share.Int("allocated"));
        Assert.Equal(7, share.Int("baseShare"));
        Assert.Equal(0.5, share["threshold"]!.GetValue<double>());
        Assert.True(body.Int("version") > before.Int("version"));

        var even = await Http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/distribution", """{"even":true,"thresholds":{"alpha":0.9}}""");
        Assert.Equal(HttpStatusCode.OK, even.Status);
        Assert.Equal(0, even.Body!.Int("freePool"));
        Assert.Equal(10, even.Body!.Share(PoolFixture.ServerId).Int("allocated"));
        Assert.Equal(0.9, even.Body.Share(PoolFixture.ServerId)["threshold"]!.GetValue<double>());

        var weighted = await Http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/distribution", """{"weights":{"alpha":1},"freePoolReserve":4}""");
        Assert.Equal(HttpStatusCode.OK, weighted.Status);
        Assert.Equal(4, weighted.Body!.Int("freePool"));
        Assert.Equal(6, weighted.Body!.Share(PoolFixture.ServerId).Int("allocated"));
    }

    [Theory, Trait("Claim", "7")]
    [InlineData("""{"shares":{"alpha":11}}""")]
    [InlineData("""{"shares":{"alpha":-1}}""")]
    [InlineData("""{"even":true,"weights":{"alpha":1}}""")]
    [InlineData("""{"weights":{"alpha":0}}""")]
    [InlineData("""{"even":true,"defaultThreshold":0}""")]
    [InlineData("""{"even":true,"thresholds":{"alpha":2}}""")]
    [InlineData("""{"even":true,"freePoolReserve":11}""")]
    [InlineData("""{"shares":{"a/b":1}}""")]
    [InlineData("""{"shares":{"alpha":"x"}}""")]
    [InlineData("""{"shares":""")]
    public async Task Invalid_distribution_criteria_are_refused_and_change_nothing(string json)
    {
        var code = PoolFixture.NewCode();
        var before = await pool.AddLicenseAsync(code, 10);

        AssertProblem(await Http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/distribution", json), HttpStatusCode.BadRequest, "invalid-request");

        Assert.Equal(before.ToJsonString(), (await pool.GetLicenseAsync(code)).ToJsonString());
    }

    [Fact]
    public async Task Unknown_license_codes_are_404_everywhere_and_are_not_created()
    {
        var code = PoolFixture.NewCode("NONE");
        AssertProblem(await Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}"), HttpStatusCode.NotFound, "unknown-license");
        AssertProblem(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/allocations", $$"""{"grant":"{{TestSecurity.AllocationsGrant(code, 1)}}"}"""), HttpStatusCode.NotFound, "unknown-license");
        AssertProblem(await Http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/distribution", """{"even":true}"""), HttpStatusCode.NotFound, "unknown-license");
        AssertProblem(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c","count":1}"""), HttpStatusCode.NotFound, "unknown-license");
        AssertProblem(await Http.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/abc", """{"clientId":"c","count":1,"serverId":"alpha"}"""), HttpStatusCode.NotFound, "unknown-license");
        AssertProblem(await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/abc?clientId=c"), HttpStatusCode.NotFound, "unknown-license");
        AssertProblem(await Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}"), HttpStatusCode.NotFound, "unknown-license");
        var all = (await Http.SendAsync(HttpMethod.Get, "api/v1/licenses")).Body!.AsArray();
        Assert.DoesNotContain(all, l => (string?)l!["code"] == code);
    }

    [Fact]
    public async Task Servers_health_readiness_and_the_api_document_are_served()
    {
        var servers = (await Http.SendAsync(HttpMethod.Get, "api/v1/servers")).Body!.AsArray();
        var self = Assert.Single(servers, s => (string?)s!["serverId"] == PoolFixture.ServerId)!;
        Assert.Equal("Active", (string?)self["status"]);
        Assert.True((bool)self["self"]!);

        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("healthz")).StatusCode);
        using var ready = await Http.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\ntrust: configured keys\n", await ready.Content.ReadAsStringAsync());

        // The open build's pool: the pool id it was given at its first start, its trust, no trial seats.
        var poolRead = (await Http.SendAsync(HttpMethod.Get, "api/v1/pool")).Body!;
        Assert.Equal((TestSecurity.PoolId, "configured keys", 0, 10), ((string?)poolRead["poolId"], (string?)poolRead["trust"], (int)poolRead["trialSeats"]!, (int)poolRead["trialCap"]!));
        Assert.Equal("configured keys", (string?)(await Http.SendAsync(HttpMethod.Get, "api/v1/usage/report")).Body!["trust"]);

        var document = (await Http.SendAsync(HttpMethod.Get, "openapi/v1.json")).Body!;
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToHashSet();
        Assert.Contains("/api/v1/licenses", paths);
        Assert.Contains("/api/v1/licenses/{code}", paths);
        Assert.Contains("/api/v1/licenses/{code}/allocations", paths);
        Assert.Contains("/api/v1/licenses/{code}/distribution", paths);
        Assert.Contains("/api/v1/licenses/{code}/borrow-policy", paths);
        Assert.Contains("/api/v1/licenses/{code}/linger", paths);
        Assert.Contains("/api/v1/licenses/{code}/leases", paths);
        Assert.Contains("/api/v1/licenses/{code}/leases/{leaseId}", paths);
        Assert.Contains("/api/v1/licenses/{code}/leases/{leaseId}/release", paths);
        var release = document["paths"]!["/api/v1/licenses/{code}/leases/{leaseId}/release"]!["post"]!;
        Assert.Equal("ReleaseLease", (string?)release["operationId"]);
        Assert.NotNull(release["responses"]!["409"]);
        Assert.Equal("GetLeases", (string?)document["paths"]!["/api/v1/licenses/{code}/leases"]!["get"]!["operationId"]);
        Assert.Contains("/api/v1/servers", paths);

        var ui = await Http.GetAsync("scalar");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains("text/html", ui.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_expired_license_code_grants_no_lease()
    {
        var code = PoolFixture.NewCode();
        var expires = DateTimeOffset.UtcNow.AddSeconds(2);
        var added = await Http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{TestSecurity.CodeGrant(code, 3, expiresAt: expires)}}"}""");
        Assert.Equal(HttpStatusCode.Created, added.Status);

        // Granted until the license expires, refused after (the grant itself could not be added once expired).
        var lease = await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c","count":1}""");
        await Http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{(string?)lease.Body!["leaseId"]}?clientId=c");
        await Until.TrueAsync(() => Task.FromResult(DateTimeOffset.UtcNow > expires), TimeSpan.FromSeconds(10), "the license to expire");
        AssertProblem(await Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"c","count":1}"""), HttpStatusCode.Forbidden, "license-expired");
        Assert.Equal(0, await pool.InUseAsync(code));
    }
}
