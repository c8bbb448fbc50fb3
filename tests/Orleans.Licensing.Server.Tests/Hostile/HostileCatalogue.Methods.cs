namespace Orleans.Licensing.Server.Tests.Hostile;

public static partial class HostileCatalogue
{
    private static HttpMethod Patch => HttpMethod.Patch;

    private static HttpMethod Head => HttpMethod.Head;

    private static HttpMethod Options => HttpMethod.Options;

    private static HttpMethod Trace => HttpMethod.Trace;

    /// <summary>Methods an API path does not have, HEAD/OPTIONS/TRACE probes, and method-override headers (ignored).</summary>
    private static IEnumerable<HostileCase> Methods()
    {
        (string Kind, HttpMethod Method, string Path, Cred Cred)[] wrong =
        [
            ("delete-code", Delete, A, Cred.Admin), ("put-licenses", Put, Licenses, Cred.Admin), ("delete-licenses", Delete, Licenses, Cred.Admin),
            ("patch-lease", Patch, LeaseA1, Cred.Client), ("post-lease", Post, LeaseA1, Cred.Client), ("get-lease", Get, LeaseA1, Cred.Admin),
            ("get-allocations", Get, Allocations, Cred.Admin), ("delete-allocations", Delete, Allocations, Cred.Admin),
            ("get-distribution", Get, Distribution, Cred.Admin), ("post-distribution", Post, Distribution, Cred.Admin),
            ("delete-leases", Delete, Checkout, Cred.Admin), ("post-servers", Post, Servers, Cred.Admin), ("delete-servers", Delete, Servers, Cred.Admin),
            ("custom-verb", new HttpMethod("FOO"), A, Cred.Admin), ("propfind", new HttpMethod("PROPFIND"), Licenses, Cred.Admin),
            ("patch-code", Patch, A, Cred.Admin), ("put-code", Put, A, Cred.Admin),
        ];
        foreach (var (kind, method, path, cred) in wrong)
            yield return new($"method.{kind}", method, path, cred, 405, MethodNotAllowed, method == Get ? null : H.Utf8("""{"clientId":"ws-1","count":2,"serverId":"alpha","even":true}"""), method == Get ? null : H.Json);

        foreach (var (kind, path) in new[] { ("licenses", Licenses), ("code", A), ("lease", LeaseA1), ("servers", Servers), ("leases", Checkout) })
        {
            yield return new($"method.head-{kind}", Head, path, Cred.Admin, 405, MethodNotAllowed);
            yield return new($"method.options-{kind}", Options, path, Cred.Admin, 405, MethodNotAllowed);
            yield return new($"method.trace-{kind}", Trace, path, Cred.Admin, 405, MethodNotAllowed);
        }

        // Override headers do not turn one method into another.
        foreach (var header in new[] { "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override" })
        {
            yield return new($"override.{header.ToLowerInvariant()}-delete-on-post-lease", Post, LeaseA1 + "?clientId=ws-1", Cred.Client, 405, MethodNotAllowed,
                H.Utf8("{}"), H.Json, H.Header((header, "DELETE")));
            yield return new($"override.{header.ToLowerInvariant()}-delete-on-get-lease", Get, LeaseA1 + "?clientId=ws-1", Cred.Admin, 405, MethodNotAllowed,
                Headers: H.Header((header, "DELETE")));
        }

        yield return J("override.put-on-checkout", Post, Checkout, Cred.Client, HeartbeatOf(count: "0"), 400, Invalid) with { Headers = H.Header(("X-HTTP-Method-Override", "PUT")) };
        yield return new("override.form-method-field", Post, LeaseA1, Cred.Client, 405, MethodNotAllowed, H.Utf8("_method=DELETE&clientId=ws-1"), "application/x-www-form-urlencoded");
    }

    /// <summary>Query strings with thousands of parameters, huge and many headers, and content negotiation tricks.</summary>
    private static IEnumerable<HostileCase> QueryAndHeaders()
    {
        var thousand = string.Join("&", Enumerable.Range(0, 1000).Select(i => $"p{i}=1"));
        yield return new("query.thousand-params.checkin", Delete, $"{LeaseA1}?clientId=ws-2&{thousand}", Cred.Client, 404, LeaseUnknown);
        yield return new("query.400-client-ids.checkin", Delete, $"{LeaseA1}?{string.Join("&", Enumerable.Range(0, 400).Select(i => $"clientId=c{i}"))}", Cred.Client, 400, Invalid);
        yield return J("query.thousand-params.checkout", Post, $"{Checkout}?{thousand}", Cred.Client, CheckoutOf("\"ws-9\"", "0"));
        yield return J("query.count-in-query.checkout", Post, $"{Checkout}?count=1&clientId=ws-9", Cred.Client, """{"count":0}""");
        yield return new("query.client-id-in-body-not-query.checkin", Delete, LeaseA1, Cred.Client, 400, Invalid, H.Utf8("""{"clientId":"ws-1"}"""), H.Json);
        yield return new("query.malformed-escapes.checkin", Delete, $"{LeaseA1}?clientId=%ZZ%&serverId=%", Cred.Client, 400, Invalid);
        yield return new("query.ten-thousand-params.get", Get, $"{A}?{string.Join("&", Enumerable.Range(0, 3000).Select(i => $"p{i}=1"))}", Cred.Reader, 414, "", ProblemBody: false);

        yield return new("header.40kb-value.checkout", Post, Checkout, Cred.Client, 431, "", H.Utf8(Grantable), H.Json, H.Header(("X-Pad", new string('h', 40_000))), ProblemBody: false);
        yield return new("header.200-headers.checkout", Post, Checkout, Cred.Client, 431, "", H.Utf8(Grantable), H.Json,
            [.. Enumerable.Range(0, 200).Select(i => new KeyValuePair<string, string>($"X-H{i}", "v"))], ProblemBody: false);
        yield return new("header.accept-html.not-found", Get, "api/v1/nope", Cred.Reader, 404, NotFound, Headers: H.Header(("Accept", "text/html")), Needs: Needs.ProblemWriter);
        yield return new("header.accept-xml.unknown-code", Get, Licenses + "/NO-SUCH-CODE", Cred.Reader, 404, UnknownLicense, Headers: H.Header(("Accept", "application/xml")));
        yield return new("header.accept-none.invalid", Post, Checkout, Cred.Client, 400, Invalid, H.Utf8(CheckoutOf("\"ws-9\"", "0")), H.Json, H.Header(("Accept", "image/png")));
        yield return new("header.expect-continue.invalid", Post, Checkout, Cred.Client, 400, Invalid, H.Utf8(CheckoutOf("\"ws-9\"", "-3")), H.Json, H.Header(("Expect", "100-continue")));
        yield return new("header.forwarded-admin.distribution", Put, Licenses + "/NO-SUCH-CODE/distribution", Cred.Client, 403, Forbidden, H.Utf8("""{"even":true}"""), H.Json,
            H.Header(("X-Forwarded-For", "127.0.0.1"), ("X-Original-URL", "/api/v1/servers"), ("X-Rewrite-URL", "/api/v1/servers")), Needs.Auth);
    }
}
