using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Orleans.Licensing.Grants;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests.Security;

[Collection(SecuredServerCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class SecuredServerTests(SecuredServerFixture server)
{
    private HttpClient With(string bearer)
    {
        var http = server.Server.CreateHttpClient(TestRole.None);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return http;
    }

    [Fact]
    public async Task Keys_rotate_by_rewriting_the_keys_file_without_a_restart()
    {
        var next = ApiKeys.New();
        using var old = With(server.FileKey);
        using var fresh = With(next);
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync("api/v1/servers")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fresh.GetAsync("api/v1/servers")).StatusCode);

        // Both for a while (clients move over), then the old one goes: no request fails because of the change itself.
        server.WriteKeys(server.FileKey, next);
        await Until.TrueAsync(async () => (await fresh.GetAsync("api/v1/servers")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "the new key to be trusted");
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync("api/v1/servers")).StatusCode);
        server.WriteKeys(next);
        await Until.TrueAsync(async () => (await old.GetAsync("api/v1/servers")).StatusCode == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(10), "the old key to be refused");
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("api/v1/servers")).StatusCode);
        Assert.Equal(1, server.Server.Starts);
    }

    [Fact]
    public async Task Jwt_bearer_tokens_of_the_configured_issuer_carry_roles_and_client_ids()
    {
        using var admin = With(server.Token("Admin"));
        var code = PoolFixture.NewCode("JWT");
        var added = await admin.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{TestSecurity.CodeGrant(code, 2)}}"}""");
        Assert.Equal(HttpStatusCode.Created, added.Status);

        using var client = With(server.Token("Client", clientId: "jwt-ws-1"));
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"jwt-ws-1","count":1}""")).Status);
        AssertProblem(await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"jwt-ws-2","count":1}"""), HttpStatusCode.Forbidden, "forbidden-client");
        AssertProblem(await client.SendAsync(HttpMethod.Post, "api/v1/licenses", """{"grant":"x"}"""), HttpStatusCode.Forbidden, "forbidden");

        using var otherIssuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        foreach (var token in new[]
                 {
                     server.Token("Admin", expires: DateTimeOffset.UtcNow.AddMinutes(-10)),
                     server.Token("Admin", signer: otherIssuerKey),
                     server.Token("Admin", issuer: "https://evil.example.test/"),
                 })
        {
            using var refused = With(token);
            AssertProblem(await refused.SendAsync(HttpMethod.Get, "api/v1/servers"), HttpStatusCode.Unauthorized, "unauthenticated");
        }

        var license = (await admin.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}")).Body;
        Assert.Equal(1, license.Share("secured").Int("inUse"));
    }

    [Fact]
    public async Task A_credential_past_its_rate_limit_gets_429_with_retry_after_and_others_are_not_slowed()
    {
        var code = PoolFixture.NewCode("RATE");
        using var admin = server.Server.CreateHttpClient(TestRole.Admin);
        Assert.Equal(HttpStatusCode.Created, (await admin.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{TestSecurity.CodeGrant(code, 50)}}"}""")).Status);
        using var tenant = server.Server.CreateHttpClient(TestRole.TenantB);

        var answers = new List<(HttpStatusCode Status, string? Error, string? RetryAfter)>();
        for (var i = 0; i < SecuredServerFixture.PermitsPerSecond * 3; i++)
        {
            var answer = await tenant.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", $$"""{"clientId":"tenant-b-{{i}}","count":1}""");
            answers.Add((answer.Status, (string?)answer.Body?["error"], answer.Response.Headers.TryGetValues("Retry-After", out var v) ? v.Single() : null));
            if (answer.Status == HttpStatusCode.TooManyRequests)
            {
                AssertProblem(answer, HttpStatusCode.TooManyRequests, "rate-limited");
                break;
            }
        }

        var limited = answers[^1];
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.Equal("1", limited.RetryAfter);
        Assert.InRange(answers.Count(a => a.Status == HttpStatusCode.Created), SecuredServerFixture.PermitsPerSecond, SecuredServerFixture.PermitsPerSecond * 2);

        // Another credential has its own bucket; the refused checkout took no seat.
        using var client = server.Server.CreateHttpClient(TestRole.Client);
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"elsewhere","count":1}""")).Status);
        var license = (await admin.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}")).Body;
        Assert.Equal(answers.Count(a => a.Status == HttpStatusCode.Created) + 1, license.Share("secured").Int("inUse"));
    }

    [Fact]
    public async Task The_api_is_served_over_https_with_the_configured_certificate()
    {
        string? presented = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate?.Thumbprint;
                return certificate?.Thumbprint == server.CertificateThumbprint;
            },
        };
        using var https = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{server.HttpsPort}/") };
        https.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestSecurity.ReaderKey);

        var servers = await https.GetAsync("api/v1/servers");

        Assert.Equal(HttpStatusCode.OK, servers.StatusCode);
        Assert.Equal(server.CertificateThumbprint, presented);
    }

    [Fact]
    public async Task No_secret_reaches_the_log_or_an_answer()
    {
        using var wrong = With(ApiKeys.New());
        var refused = await wrong.SendAsync(HttpMethod.Get, "api/v1/servers");
        using var admin = server.Server.CreateHttpClient(TestRole.Admin);
        var answers = string.Join('\n', refused.Body?.ToJsonString(), (await admin.SendAsync(HttpMethod.Get, "api/v1/licenses")).Body?.ToJsonString());
        var token = server.Token("Admin");
        using var jwt = With(token);
        await jwt.GetAsync("api/v1/servers");

        foreach (var secret in new[] { TestSecurity.AdminKey, TestSecurity.ReaderKey, TestSecurity.ClientKey, server.FileKey, token, ApiKeys.Hash(TestSecurity.AdminKey) })
        {
            Assert.DoesNotContain(secret, server.Server.Log);
            Assert.DoesNotContain(secret, answers);
        }
    }
}
