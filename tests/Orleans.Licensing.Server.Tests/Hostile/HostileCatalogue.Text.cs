namespace Orleans.Licensing.Server.Tests.Hostile;

public static partial class HostileCatalogue
{
    /// <summary>Identifiers that look like another one, hide text, or are not text at all.</summary>
    private static readonly (string Kind, string Value)[] Tricky =
    [
        ("nul", "ws\u00001"), ("soh", "\u0001ws-1"), ("del", "ws-1\u007f"), ("c1-nel", "ws\u00851"), ("newline", "ws-1\n"),
        ("carriage-return", "ws-1\r"), ("tab", "ws\t1"), ("escape", "\u001b[31mws-1"),
        ("rtl-override", "ws-\u202E1-gpj.exe"), ("ltr-override", "\u202Dws-1"), ("rtl-isolate", "ws-\u20671"),
        ("zero-width-space", "ws\u200B-1"), ("zero-width-joiner", "ws-1\u200D"), ("bom-inside", "\uFEFFws-1"),
        ("word-joiner", "ws\u2060-1"), ("soft-hyphen", "ws\u00AD-1"), ("line-separator", "ws\u20281"),
        ("lone-high-surrogate", "ws-\uD800"), ("lone-low-surrogate", "ws-\uDC00"), ("reversed-surrogates", "ws-\uDC00\uD800"),
        ("fullwidth", "\uFF57\uFF53-1"), ("decomposed-accent", "jose\u0301"), ("ligature", "\uFB01le-1"), ("kelvin-sign", "\u212Aiosk"),
        ("private-use", "ws-\uE000"), ("unassigned", "ws-\u0378"), ("noncharacter", "ws-\uFFFF"),
        ("only-spaces", "   "), ("leading-space", " ws-1"), ("trailing-space", "ws-1 "), ("nbsp-only", "\u00A0\u00A0"),
    ];

    private static IEnumerable<HostileCase> Unicode()
    {
        foreach (var (kind, value) in Tricky)
            yield return J($"unicode.{kind}.client-id.checkout", Post, Checkout, Cred.Client, CheckoutOf(H.Str(value)));

        // The same tricks in other identifiers.
        foreach (var kind in new[] { "nul", "rtl-override", "zero-width-space", "lone-high-surrogate", "fullwidth", "trailing-space" })
        {
            var value = Tricky.Single(t => t.Kind == kind).Value;
            yield return J($"unicode.{kind}.lease-id.checkout", Post, Checkout, Cred.Client, $$"""{"clientId":"ws-9","count":1,"leaseId":{{H.Str("lease" + value)}}}""");
            yield return J($"unicode.{kind}.server-id.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: H.Str("alpha" + value)));
            yield return J($"unicode.{kind}.client-id.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(clientId: H.Str(value)));
        }

        // In the path: a code or lease id that is only a look-alike of a seeded one is refused, not looked up.
        foreach (var (kind, escaped) in new[]
                 {
                     ("nul", "%00"), ("rtl-override", "%E2%80%AE"), ("zero-width-space", "%E2%80%8B"), ("bom", "%EF%BB%BF"),
                     ("fullwidth-a", "%EF%BC%A1"), ("newline", "%0A"), ("trailing-space", "%20"), ("invalid-utf8", "%C3%28"),
                 })
        {
            // Kestrel itself refuses a NUL in the path, with a bare 400.
            var kestrel = kind == "nul";
            yield return new($"unicode.{kind}.code.get", Get, $"{A}{escaped}", Cred.Reader, 400, Invalid, ProblemBody: !kestrel);
            yield return J($"unicode.{kind}.lease-id.heartbeat", Put, $"{Checkout}/hostile-a1{escaped}", Cred.Client, HeartbeatOf()) with { ProblemBody = !kestrel };
        }

        yield return new("unicode.lookalike-case.code.get", Get, Licenses + "/hostile-a", Cred.Reader, 404, UnknownLicense);
        yield return new("unicode.cyrillic-lookalike.code.get", Get, Licenses + "/H%D0%9ESTILE-A", Cred.Reader, 404, UnknownLicense);
        yield return J("unicode.lookalike-case.lease-id.heartbeat", Put, Checkout + "/HOSTILE-A1", Cred.Client, HeartbeatOf(), 404, LeaseUnknown);
    }

    /// <summary>Very long codes, ids and client ids.</summary>
    private static IEnumerable<HostileCase> Long()
    {
        var tenK = new string('x', 10_240);
        yield return J("long.client-id-10k.checkout", Post, Checkout, Cred.Client, CheckoutOf(H.Str(tenK)));
        yield return J("long.client-id-257.checkout", Post, Checkout, Cred.Client, CheckoutOf(H.Str(new string('c', 257))));
        yield return J("long.lease-id-10k.checkout", Post, Checkout, Cred.Client, $$"""{"clientId":"ws-9","count":1,"leaseId":"{{tenK}}"}""");
        yield return J("long.lease-id-129.checkout", Post, Checkout, Cred.Client, $$"""{"clientId":"ws-9","count":1,"leaseId":"{{new string('l', 129)}}"}""");
        yield return J("long.client-id-10k.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(clientId: H.Str(tenK)));
        yield return J("long.server-id-10k.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: H.Str(tenK)));
        yield return J("long.shares-key-10k.distribution", Put, Distribution, Cred.Admin, "{\"shares\":{\"" + tenK + "\":1}}");
        yield return new("long.code-201.get", Get, Licenses + "/" + new string('C', 201), Cred.Reader, 400, Invalid);
        yield return new("long.code-2k.get", Get, Licenses + "/" + new string('C', 2048), Cred.Reader, 400, Invalid);
        yield return J("long.lease-id-1k.heartbeat", Put, Checkout + "/" + new string('L', 1024), Cred.Client, HeartbeatOf());
        yield return new("long.client-id-4k.checkin", Delete, $"{LeaseA1}?clientId={new string('c', 4096)}", Cred.Client, 400, Invalid);

        // Over Kestrel's request line (8 KB) and header (32 KB) limits: Kestrel refuses them before the application runs.
        yield return new("long.code-10k.get", Get, Licenses + "/" + tenK, Cred.Reader, 414, "", ProblemBody: false);
        yield return new("long.client-id-10k.checkin", Delete, $"{LeaseA1}?clientId={tenK}", Cred.Client, 414, "", ProblemBody: false);
    }

    /// <summary>Ids that try to climb out of their path segment.</summary>
    private static IEnumerable<HostileCase> Paths()
    {
        yield return new("path.encoded-dotdot-to-api-root.get", Get, Licenses + "/%2e%2e", Cred.Reader, 404, NotFound);
        yield return new("path.dotdot-to-code.checkin", Delete, Checkout + "/..?clientId=ws-1", Cred.Client, 405, MethodNotAllowed);
        yield return new("path.encoded-slash-traversal.get", Get, Licenses + "/..%2F..%2Fservers", Cred.Reader, 400, Invalid);
        yield return new("path.encoded-slash-upper.get", Get, Licenses + "/HOSTILE-A%2Fleases", Cred.Reader, 400, Invalid);
        yield return new("path.double-encoded-dotdot.get", Get, Licenses + "/%252e%252e%252fservers", Cred.Reader, 400, Invalid);
        yield return new("path.backslash-traversal.get", Get, Licenses + "/..\\..\\servers", Cred.Reader, 400, Invalid);
        yield return new("path.encoded-backslash.get", Get, Licenses + "/HOSTILE-A%5C..%5CHOSTILE-B", Cred.Reader, 400, Invalid);
        yield return new("path.dot-code.get", Get, Licenses + "/.%2e.", Cred.Reader, 400, Invalid);
        yield return J("path.encoded-slash-lease.heartbeat", Put, Checkout + "/hostile-a1%2F..%2Fhostile-b1", Cred.Client, HeartbeatOf());
        yield return J("path.backslash-lease.heartbeat", Put, Checkout + "/..\\hostile-b1", Cred.Client, HeartbeatOf());
        yield return new("path.encoded-dotdot-lease.checkin", Delete, Checkout + "/%2e%2e%2fhostile-a1?clientId=ws-1", Cred.Client, 400, Invalid);
        yield return new("path.semicolon-param.get", Get, Licenses + "/HOSTILE-A;jsessionid=1", Cred.Reader, 404, UnknownLicense);
        yield return new("path.percent-lease.checkin", Delete, Checkout + "/hostile-a1%25?clientId=ws-1", Cred.Client, 400, Invalid);
        yield return J("path.empty-lease-segment.heartbeat", Put, Checkout + "//", Cred.Client, HeartbeatOf(), 404, NotFound);
        yield return new("path.extra-segment.get", Get, LeaseA1 + "/extra", Cred.Reader, 404, NotFound);
        yield return new("path.double-slash-api.get", Get, "api//v1/licenses", Cred.Reader, 404, NotFound);
        yield return new("path.api-v2.get", Get, "api/v2/licenses", Cred.Reader, 404, NotFound);
        yield return new("path.unknown-resource.get", Get, "api/v1/secrets", Cred.Reader, 404, NotFound);
        yield return new("path.unknown-code.get", Get, Licenses + "/NO-SUCH-CODE", Cred.Reader, 404, UnknownLicense);
        yield return J("path.unknown-code.checkout", Post, Licenses + "/NO-SUCH-CODE/leases", Cred.Client, CheckoutOf("\"ws-9\""), 404, UnknownLicense);
        yield return J("path.unknown-code.distribution", Put, Licenses + "/NO-SUCH-CODE/distribution", Cred.Admin, """{"even":true}""", 404, UnknownLicense);
        yield return J("path.wrong-code-of-lease.heartbeat", Put, Licenses + "/HOSTILE-B/leases/hostile-a1", Cred.Client, HeartbeatOf(), 404, LeaseUnknown);
        yield return new("path.wrong-code-of-lease.checkin", Delete, Licenses + "/HOSTILE-B/leases/hostile-a1?clientId=ws-1", Cred.Client, 404, LeaseUnknown);
    }
}
