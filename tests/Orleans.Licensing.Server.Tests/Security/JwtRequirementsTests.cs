using System.Net;
using System.Net.Http.Headers;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// JWT bearer tokens are access tokens of the configured issuer for this API's audience (docs/security.md): a token for
/// another audience, of another issuer, or an OpenID ID token (what a browser login hands a web app) is 401.
/// </summary>
[Collection(SecuredServerCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class JwtRequirementsTests(SecuredServerFixture server)
{
    private async Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode? Body, HttpResponseMessage Response)> ServersWith(string token)
    {
        using var http = server.Server.CreateHttpClient(TestRole.None);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(HttpMethod.Get, "api/v1/servers");
    }

    public static TheoryData<string> Refused => ["wrong audience", "wrong issuer", "id token (nonce)", "id token (at_hash)", "id token type", "no type"];

    [Theory, MemberData(nameof(Refused))]
    public async Task A_token_that_is_not_an_access_token_for_this_api_is_refused(string kind)
    {
        var token = kind switch
        {
            "wrong audience" => server.Token("Admin", audience: "another-app"),
            "wrong issuer" => server.Token("Admin", issuer: "https://evil.example.test/"),
            "id token (nonce)" => server.Token("Admin", extra: new Dictionary<string, object> { ["nonce"] = "n-0S6_WzA2Mj" }),
            "id token (at_hash)" => server.Token("Admin", extra: new Dictionary<string, object> { ["at_hash"] = "77QmUPtjPfzWtF2AnpK9RQ" }),
            "id token type" => server.Token("Admin", type: "id_token+jwt"),
            "no type" => server.Token("Admin", type: null),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        AssertProblem(await ServersWith(token), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("at+jwt")]
    [InlineData("application/at+jwt")]
    public async Task An_access_token_of_the_issuer_for_this_audience_is_accepted(string type)
    {
        var answer = await ServersWith(server.Token("Reader", type: type));
        Assert.True(answer.Status == HttpStatusCode.OK, $"{type}: {(int)answer.Status} {answer.Body?.ToJsonString()}");
    }

    [Theory]
    [InlineData("Audience")]
    [InlineData("Issuer")]
    public async Task A_server_with_jwt_but_without_an_audience_or_issuer_refuses_to_start(string missing)
    {
        var data = Path.Combine(Path.GetTempPath(), "licensing-tests", "jwt-" + Guid.NewGuid().ToString("N"));
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var settings = new Dictionary<string, string>
        {
            ["Licensing__Security__Jwt__Issuer"] = SecuredServerFixture.Issuer,
            ["Licensing__Security__Jwt__Audience"] = SecuredServerFixture.Audience,
            ["Licensing__Security__Jwt__SigningKeyPem"] = key.ExportSubjectPublicKeyInfoPem(),
        };
        settings.Remove("Licensing__Security__Jwt__" + missing);
        await using var refused = new ServerProcess("jwt-" + missing.ToLowerInvariant(), data, settings: settings);
        try
        {
            var failed = await Assert.ThrowsAsync<InvalidOperationException>(refused.StartAsync);
            Assert.Contains("Licensing:Security:Jwt:" + missing, failed.Message);
            Assert.NotEqual(0, refused.ExitCode);
        }
        finally
        {
            PoolFixture.TryDelete(data);
        }
    }
}
