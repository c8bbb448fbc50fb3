using System.Net;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// Every endpoint × every role against a real server: who gets 401, who 403, and who gets through with which status (to a request that is
/// refused on its merits, so the matrix itself changes nothing, which it checks).
/// </summary>
[Collection(PoolCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class AccessMatrixTests(PoolFixture pool)
{
    public enum Caller { Anonymous, WrongKey, Reader, Client, TenantB, Admin }

    private const string Through = "through";

    /// <summary>(endpoint, caller, expected error or <see cref="Through"/>: past authorization to the endpoint's own answer).</summary>
    public static TheoryData<string, Caller, string> Matrix()
    {
        var data = new TheoryData<string, Caller, string>();
        foreach (var endpoint in Endpoints.Keys)
        {
            foreach (var caller in Enum.GetValues<Caller>()) data.Add(endpoint, caller, Expected(endpoint, caller));
        }

        return data;
    }

    // § = the test's license code.
    private static readonly Dictionary<string, (HttpMethod Method, string Path, string? Body, string Level, HttpStatusCode ThroughStatus, string? ThroughError)> Endpoints = new()
    {
        ["list licenses"] = (HttpMethod.Get, "api/v1/licenses", null, "read", HttpStatusCode.OK, null),
        ["read license"] = (HttpMethod.Get, "api/v1/licenses/§", null, "read", HttpStatusCode.OK, null),
        ["list servers"] = (HttpMethod.Get, "api/v1/servers", null, "read", HttpStatusCode.OK, null),
        ["add license code"] = (HttpMethod.Post, "api/v1/licenses", """{"grant":"not-a-grant"}""", "admin", HttpStatusCode.BadRequest, "grant-malformed"),
        ["add allocations"] = (HttpMethod.Post, "api/v1/licenses/§/allocations", """{"grant":"not-a-grant"}""", "admin", HttpStatusCode.BadRequest, "grant-malformed"),
        ["change distribution"] = (HttpMethod.Put, "api/v1/licenses/§/distribution", """{"shares":{"alpha":99}}""", "admin", HttpStatusCode.BadRequest, "invalid-request"),
        ["set borrow policy"] = (HttpMethod.Put, "api/v1/licenses/§/borrow-policy", """{"maxCount":1,"maxDuration":"P0D"}""", "admin", HttpStatusCode.BadRequest, "invalid-request"),
        ["set linger"] = (HttpMethod.Put, "api/v1/licenses/§/linger", """{"linger":"PT25H"}""", "admin", HttpStatusCode.BadRequest, "invalid-request"),
        ["list leases"] = (HttpMethod.Get, "api/v1/licenses/§/leases", null, "report", HttpStatusCode.OK, null),
        ["release lease"] = (HttpMethod.Post, "api/v1/licenses/§/leases/no-such-lease/release", """{"reason":"matrix"}""", "admin", HttpStatusCode.NotFound, "lease-unknown"),
        ["release lease, no body"] = (HttpMethod.Post, "api/v1/licenses/§/leases/no-such-lease/release", null, "admin", HttpStatusCode.NotFound, "lease-unknown"),
        ["checkout"] = (HttpMethod.Post, "api/v1/licenses/§/leases", """{"clientId":"matrix-client","count":0}""", "client", HttpStatusCode.BadRequest, "invalid-request"),
        // An offline borrow is a checkout: a client credential may borrow (refused here on its merits, P0D).
        ["offline borrow"] = (HttpMethod.Post, "api/v1/licenses/§/leases", """{"clientId":"matrix-client","count":1,"borrowFor":"P0D"}""", "client", HttpStatusCode.BadRequest, "invalid-request"),
        ["heartbeat"] = (HttpMethod.Put, "api/v1/licenses/§/leases/some-lease", """{"clientId":"matrix-client","count":0,"serverId":"alpha"}""", "client", HttpStatusCode.BadRequest, "invalid-request"),
        ["check-in"] = (HttpMethod.Delete, "api/v1/licenses/§/leases/no-such-lease?clientId=matrix-client", null, "client", HttpStatusCode.NotFound, "lease-unknown"),
        ["usage events"] = (HttpMethod.Get, "api/v1/usage?code=§&limit=5", null, "report", HttpStatusCode.OK, null),
        ["usage csv"] = (HttpMethod.Get, "api/v1/usage?code=§&limit=5&format=csv", null, "report", HttpStatusCode.OK, null),
        ["usage report"] = (HttpMethod.Get, "api/v1/usage/report?code=§", null, "report", HttpStatusCode.OK, null),
        ["metrics"] = (HttpMethod.Get, "metrics", null, "report", HttpStatusCode.OK, null),
        ["pool view"] = (HttpMethod.Get, "pool/", null, "admin", HttpStatusCode.OK, null),
        ["orleans dashboard"] = (HttpMethod.Get, "dashboard/", null, "admin", HttpStatusCode.OK, null),
    };

    /// <summary>
    /// Levels: "read" = the license tables and servers (no client or lease ids: every role); "report" = the usage log,
    /// its report and CSV, /metrics (every tenant's client and lease ids: reader and admin only); "client" = the lease
    /// calls; "admin" = the rest.
    /// </summary>
    private static string Expected(string endpoint, Caller caller)
    {
        var level = Endpoints[endpoint].Level;
        return caller switch
        {
            Caller.Anonymous or Caller.WrongKey => "unauthenticated",
            Caller.Admin => Through,
            Caller.Reader => level is "read" or "report" ? Through : "forbidden",
            // A client key may act for the clients it covers: TenantB covers tenant-b-*, not "matrix-client".
            Caller.Client => level is "read" or "client" ? Through : "forbidden",
            Caller.TenantB => level == "read" ? Through : level == "client" ? "forbidden-client" : "forbidden",
            _ => throw new ArgumentOutOfRangeException(nameof(caller)),
        };
    }

    [Theory, MemberData(nameof(Matrix))]
    public async Task Each_endpoint_answers_each_role_as_its_policy_says_and_changes_nothing(string endpoint, Caller caller, string expected)
    {
        var code = await pool.SharedCodeAsync();
        var (method, path, body, _, throughStatus, throughError) = Endpoints[endpoint];
        var before = await pool.GetLicenseAsync(code);

        using var http = pool.Server.CreateHttpClient(caller switch
        {
            Caller.Reader => TestRole.Reader,
            Caller.Client => TestRole.Client,
            Caller.TenantB => TestRole.TenantB,
            Caller.Admin => TestRole.Admin,
            _ => TestRole.None,
        });
        if (caller == Caller.WrongKey) http.DefaultRequestHeaders.Authorization = new("Bearer", Grants.ApiKeys.New());
        var answer = await http.SendAsync(method, path.Replace("§", code), body);

        switch (expected)
        {
            case Through when throughError is null:
                Assert.True(answer.Status == throughStatus, $"{endpoint} as {caller}: {(int)answer.Status} {answer.Body?.ToJsonString()}");
                break;
            case Through:
                AssertProblem(answer, throughStatus, throughError);
                break;
            case "unauthenticated":
                AssertProblem(answer, HttpStatusCode.Unauthorized, expected);
                Assert.Contains("Bearer", answer.Response.Headers.WwwAuthenticate.ToString());
                break;
            default:
                AssertProblem(answer, HttpStatusCode.Forbidden, expected);
                break;
        }

        Assert.Equal(before.ToJsonString(), (await pool.GetLicenseAsync(code)).ToJsonString());
    }

    [Theory]
    [InlineData("healthz")]
    [InlineData("readyz")]
    [InlineData("openapi/v1.json")]
    public async Task Health_readiness_and_the_api_document_need_no_credential(string path)
    {
        using var http = pool.Server.CreateHttpClient(TestRole.None);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Every_way_of_sending_a_key_authenticates_and_malformed_ones_are_401()
    {
        using var http = pool.Server.CreateHttpClient(TestRole.None);
        async Task<HttpStatusCode> With(string header, string value)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/servers");
            request.Headers.TryAddWithoutValidation(header, value);
            return (await http.SendAsync(request)).StatusCode;
        }

        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("anyone:" + TestSecurity.ReaderKey));
        Assert.Equal(HttpStatusCode.OK, await With("Authorization", "Bearer " + TestSecurity.ReaderKey));
        Assert.Equal(HttpStatusCode.OK, await With("X-Api-Key", TestSecurity.ReaderKey));
        Assert.Equal(HttpStatusCode.OK, await With("Authorization", "Basic " + basic));
        Assert.Equal(HttpStatusCode.Unauthorized, await With("Authorization", "Basic !!!"));
        Assert.Equal(HttpStatusCode.Unauthorized, await With("Authorization", "Digest " + TestSecurity.ReaderKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await With("Authorization", "Bearer"));
        Assert.Equal(HttpStatusCode.Unauthorized, await With("X-Api-Key", ""));
        Assert.Equal(HttpStatusCode.Unauthorized, await With("Authorization", "Bearer " + TestSecurity.ReaderKey + "x"));
    }
}
