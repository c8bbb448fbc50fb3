using System.Text;

namespace Orleans.Licensing.Server.Tests.Hostile;

public static partial class HostileCatalogue
{
    /// <summary>Every /api/v1 endpoint with a body that would succeed if the credential were accepted.</summary>
    private static readonly (string Kind, HttpMethod Method, string Path, string? Body)[] Endpoints =
    [
        ("list", Get, Licenses, null), ("get", Get, A, null), ("servers", Get, Servers, null),
        ("add-code", Post, Licenses, """{"grant":"olg1.e30.AAAA"}"""), ("allocations", Post, Allocations, """{"grant":"olg1.e30.AAAA"}"""),
        ("distribution", Put, Distribution, """{"even":true}"""), ("release", Post, LeaseA1 + "/release", """{"reason":"hostile"}"""),
        ("checkout", Post, Checkout, """{"clientId":"ws-9","count":1}"""), ("heartbeat", Put, LeaseA1, """{"clientId":"ws-1","count":2,"serverId":"alpha"}"""),
        ("checkin", Delete, LeaseA1 + "?clientId=ws-1", null),
    ];

    /// <summary>What only readers and admins read: the lease list (who holds what), the usage log (JSON, CSV), its report, the metrics.</summary>
    private static readonly (string Kind, HttpMethod Method, string Path, string? Body)[] Reports =
    [
        ("lease-list", Get, Checkout, null), ("usage", Get, "api/v1/usage", null), ("usage-csv", Get, "api/v1/usage?format=csv", null),
        ("usage-report", Get, "api/v1/usage/report", null), ("metrics", Get, "metrics", null),
    ];

    private static HostileCase AuthCase(string name, (string Kind, HttpMethod Method, string Path, string? Body) e, Cred cred, int status, string error,
        params (string Name, string Value)[] headers) =>
        new(name, e.Method, e.Path, cred, status, error, e.Body is null ? null : H.Utf8(e.Body), e.Body is null ? null : H.Json,
            headers.Length == 0 ? null : H.Header(headers), Needs.Auth);

    private static (string Kind, HttpMethod Method, string Path, string? Body) Endpoint(string kind) => Endpoints.Single(e => e.Kind == kind);

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    /// <summary>Missing and wrong credentials on each endpoint; each role where it may not go.</summary>
    private static IEnumerable<HostileCase> Auth()
    {
        var unknown = HostileSecurity.UnknownKey;
        foreach (var e in Endpoints)
        {
            yield return AuthCase($"auth.none.{e.Kind}", e, Cred.None, 401, Unauthenticated);
            yield return AuthCase($"auth.bearer-unknown-key.{e.Kind}", e, Cred.None, 401, Unauthenticated, ("Authorization", "Bearer " + unknown));
            yield return AuthCase($"auth.x-api-key-unknown.{e.Kind}", e, Cred.None, 401, Unauthenticated, ("X-Api-Key", unknown));
            yield return AuthCase($"auth.basic-unknown-key.{e.Kind}", e, Cred.None, 401, Unauthenticated, ("Authorization", Basic("admin", unknown)));
        }

        var admin = HostileSecurity.Key(Cred.Admin);
        foreach (var kind in new[] { "get", "distribution", "checkout", "checkin" })
        {
            var e = Endpoint(kind);
            yield return AuthCase($"auth.wrong-scheme.{kind}", e, Cred.None, 401, Unauthenticated, ("Authorization", "Token " + admin));
            yield return AuthCase($"auth.basic-bad-base64.{kind}", e, Cred.None, 401, Unauthenticated, ("Authorization", "Basic !!!not-base64==="));
            yield return AuthCase($"auth.basic-no-colon.{kind}", e, Cred.None, 401, Unauthenticated, ("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(admin))));
            yield return AuthCase($"auth.bearer-empty.{kind}", e, Cred.None, 401, Unauthenticated, ("Authorization", "Bearer "));
            yield return AuthCase($"auth.bearer-malformed-key.{kind}", e, Cred.None, 401, Unauthenticated, ("Authorization", "Bearer olk_short"));
            yield return AuthCase($"auth.admin-key-one-char-flipped.{kind}", e, Cred.None, 401, Unauthenticated, ("Authorization", "Bearer " + Flip(admin)));
        }

        var distribution = Endpoint("distribution");
        yield return AuthCase("auth.admin-key-truncated.distribution", distribution, Cred.None, 401, Unauthenticated, ("Authorization", "Bearer " + admin[..^1]));
        yield return AuthCase("auth.admin-key-hash.distribution", distribution, Cred.None, 401, Unauthenticated,
            ("Authorization", "Bearer sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(admin))).ToLowerInvariant()));
        yield return AuthCase("auth.jwt-looking-token.distribution", distribution, Cred.None, 401, Unauthenticated,
            ("Authorization", "Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ."));
        yield return AuthCase("auth.16kb-bearer.distribution", distribution, Cred.None, 401, Unauthenticated, ("Authorization", "Bearer olk_" + new string('A', 16_384)));
        yield return AuthCase("auth.key-in-query.distribution", distribution with { Path = Distribution + "?api_key=" + admin + "&access_token=" + admin }, Cred.None, 401, Unauthenticated);
        yield return AuthCase("auth.key-in-cookie.distribution", distribution, Cred.None, 401, Unauthenticated, ("Cookie", "api_key=" + admin));
        yield return AuthCase("auth.basic-empty-password.distribution", distribution, Cred.None, 401, Unauthenticated, ("Authorization", Basic(admin, "")));

        // Roles where they may not go: a reader writes nothing, a client key administers nothing.
        foreach (var kind in new[] { "add-code", "allocations", "distribution", "release", "checkout", "heartbeat", "checkin" })
            yield return AuthCase($"role.reader.{kind}", Endpoint(kind), Cred.Reader, 403, Forbidden);
        foreach (var kind in new[] { "add-code", "allocations", "distribution", "release" })
        {
            yield return AuthCase($"role.client.{kind}", Endpoint(kind), Cred.Client, 403, Forbidden);
            yield return AuthCase($"role.tenant-b-client.{kind}", Endpoint(kind), Cred.TenantB, 403, Forbidden);
        }

        // The usage log and /metrics name every tenant's client and lease ids: a client key reads none of them.
        foreach (var e in Reports)
        {
            yield return AuthCase($"auth.none.{e.Kind}", e, Cred.None, 401, Unauthenticated);
            yield return AuthCase($"role.client.{e.Kind}", e, Cred.Client, 403, Forbidden);
            yield return AuthCase($"role.tenant-b-client.{e.Kind}", e, Cred.TenantB, 403, Forbidden);
        }

        var reader = HostileSecurity.Key(Cred.Reader);
        yield return AuthCase("role.reader-basic.distribution", distribution, Cred.None, 403, Forbidden, ("Authorization", Basic("reader", reader)));
        yield return AuthCase("role.reader-x-api-key.checkout", Endpoint("checkout"), Cred.None, 403, Forbidden, ("X-Api-Key", reader));
        yield return AuthCase("role.client-basic.allocations", Endpoint("allocations"), Cred.None, 403, Forbidden, ("Authorization", Basic("c", HostileSecurity.Key(Cred.Client))));
        yield return AuthCase("role.client-traversal-to-distribution", Endpoint("heartbeat") with { Path = LeaseA1 + "/../../distribution", Body = """{"even":true}""" }, Cred.Client, 403, Forbidden);

        // A client key used for client ids it does not cover (it covers tenant-b-*).
        yield return J("client-scope.checkout-other-client", Post, Checkout, Cred.TenantB, CheckoutOf("\"ws-9\""), 403, ForbiddenClient, Needs.Auth);
        yield return J("client-scope.checkout-prefix-without-dash", Post, Checkout, Cred.TenantB, CheckoutOf("\"tenant-b\""), 403, ForbiddenClient, Needs.Auth);
        yield return J("client-scope.checkout-case-variant", Post, Checkout, Cred.TenantB, CheckoutOf("\"TENANT-B-9\""), 403, ForbiddenClient, Needs.Auth);
        yield return J("client-scope.heartbeat-other-client", Put, LeaseA1, Cred.TenantB, HeartbeatOf(), 403, ForbiddenClient, Needs.Auth);
        yield return J("client-scope.failover-other-client", Put, LeaseA1, Cred.TenantB, HeartbeatOf(serverId: "\"beta\""), 403, ForbiddenClient, Needs.Auth);
        yield return new("client-scope.checkin-other-client", Delete, LeaseA1 + "?clientId=ws-1", Cred.TenantB, 403, ForbiddenClient, Needs: Needs.Auth);
        yield return new("client-scope.checkin-other-client-of-own-lease-id", Delete, Checkout + "/hostile-a2?clientId=ws-1", Cred.TenantB, 403, ForbiddenClient, Needs: Needs.Auth);

        // Covered client ids, but not the lease's client: the lease checks still refuse.
        yield return new("client-scope.checkin-covered-wrong-client", Delete, Checkout + "/hostile-a2?clientId=tenant-b-8", Cred.TenantB, 404, LeaseUnknown, Needs: Needs.Auth);
        yield return J("client-scope.heartbeat-covered-wrong-client", Put, Checkout + "/hostile-a2", Cred.TenantB, HeartbeatOf(clientId: "\"tenant-b-8\"", count: "1"), 409, Conflict, Needs.Auth);
    }

    /// <summary>The key with one character changed (still well-formed).</summary>
    private static string Flip(string key) => key[..^1] + (key[^1] == 'A' ? 'B' : 'A');
}
