namespace Orleans.Licensing.Server.Tests.Hostile;

/// <summary>Every kind of hostile request of the suite, by stable name (group.kind).</summary>
public static partial class HostileCatalogue
{
    public const string Invalid = "invalid-request";
    public const string UnknownLicense = "unknown-license";
    public const string LeaseUnknown = "lease-unknown";
    public const string Conflict = "conflict";
    public const string NoAllocation = "no-allocation";
    public const string TooLarge = "body-too-large";
    public const string NotFound = "not-found";
    public const string MethodNotAllowed = "method-not-allowed";
    public const string Unauthenticated = "unauthenticated";
    public const string Forbidden = "forbidden";
    public const string ForbiddenClient = "forbidden-client";

    public const string Licenses = "api/v1/licenses";
    public const string A = Licenses + "/" + HostileFixture.CodeA;
    public const string Checkout = A + "/leases";
    public const string LeaseA1 = Checkout + "/hostile-a1";
    public const string Allocations = A + "/allocations";
    public const string Distribution = A + "/distribution";
    public const string Servers = "api/v1/servers";

    // Properties, not fields: static fields of other parts of this class use them, and field order across files is not defined.
    private static HttpMethod Get => HttpMethod.Get;

    private static HttpMethod Post => HttpMethod.Post;

    private static HttpMethod Put => HttpMethod.Put;

    private static HttpMethod Delete => HttpMethod.Delete;

    private static readonly Lazy<IReadOnlyList<HostileCase>> _all = new(() =>
        [.. Json(), .. Types(), .. Counts(), .. Unicode(), .. Long(), .. Paths(), .. ContentTypes(), .. Sizes(),
         .. LeaseCases(), .. DistributionCases(), .. Methods(), .. QueryAndHeaders(), .. Auth(), .. Grants()]);

    private static readonly Lazy<IReadOnlyDictionary<string, HostileCase>> _byName = new(() => All.ToDictionary(c => c.Name, StringComparer.Ordinal));

    public static IReadOnlyList<HostileCase> All => _all.Value;

    public static IReadOnlyDictionary<string, HostileCase> ByName => _byName.Value;

    /// <summary>A JSON body sent with Content-Type application/json.</summary>
    private static HostileCase J(string name, HttpMethod method, string path, Cred cred, string body, int status = 400, string error = Invalid, Needs needs = Needs.None) =>
        new(name, method, path, cred, status, error, H.Utf8(body), H.Json, Needs: needs);

    /// <summary>A checkout body of <paramref name="clientId"/> (a JSON literal) that would be granted if the id were accepted.</summary>
    private static string CheckoutOf(string clientIdLiteral, string count = "1") => $$"""{"clientId":{{clientIdLiteral}},"count":{{count}}}""";

    private static string HeartbeatOf(string clientId = "\"ws-1\"", string count = "2", string serverId = "\"alpha\"") =>
        $$"""{"clientId":{{clientId}},"count":{{count}},"serverId":{{serverId}}}""";
}
