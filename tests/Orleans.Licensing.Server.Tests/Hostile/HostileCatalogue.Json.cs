namespace Orleans.Licensing.Server.Tests.Hostile;

public static partial class HostileCatalogue
{
    /// <summary>Bodies that are not JSON, or not one JSON object, each sent to checkout, heartbeat and distribution.</summary>
    private static readonly (string Kind, string Body)[] Malformed =
    [
        ("empty", ""),
        ("whitespace", "  \r\n\t "),
        ("open-brace", "{"),
        ("close-brace", "}"),
        ("unterminated-string", """{"clientId":"ws-9"""),
        ("unterminated-object", """{"clientId":"ws-9","count":1"""),
        ("missing-value", """{"clientId":,"count":1}"""),
        ("text", "not json"),
        ("null", "null"),
        ("true", "true"),
        ("number", "42"),
        ("string", "\"ws-9\""),
        ("empty-array", "[]"),
        ("array-of-object", """[{"clientId":"ws-9","count":1,"serverId":"alpha","even":true}]"""),
        ("trailing-garbage", """{"clientId":"ws-9","count":1} x"""),
        ("two-objects", """{"clientId":"ws-9","count":1}{"clientId":"ws-9","count":1}"""),
        ("single-quotes", "{'clientId':'ws-9','count':1}"),
        ("unquoted-keys", "{clientId:\"ws-9\",count:1}"),
        ("comment", """{/* c */"clientId":"ws-9","count":0}"""),
        ("line-comment", "{\"clientId\":\"ws-9\", // c\n\"count\":0}"),
        ("trailing-comma", """{"clientId":"ws-9","count":0,}"""),
        ("nan", """{"clientId":"ws-9","count":NaN,"defaultThreshold":NaN}"""),
        ("infinity", """{"clientId":"ws-9","count":Infinity,"defaultThreshold":-Infinity}"""),
        ("hex-number", """{"clientId":"ws-9","count":0x1,"freePoolReserve":0x1}"""),
        ("leading-zero", """{"clientId":"ws-9","count":01,"freePoolReserve":01}"""),
        ("plus-sign", """{"clientId":"ws-9","count":+1,"freePoolReserve":+1}"""),
        ("bare-exponent", """{"clientId":"ws-9","count":1e,"freePoolReserve":1e}"""),
        ("nested-arrays-10000", new string('[', 10_000) + new string(']', 10_000)),
        ("nested-objects-10000", H.Repeat("{\"a\":", 10_000) + "1" + new string('}', 10_000)),
        ("nested-unclosed-10000", new string('[', 10_000)),
        ("deep-unknown-member", """{"clientId":"ws-9","count":1,"serverId":"alpha","even":true,"x":""" + new string('[', 200) + new string(']', 200) + "}"),
        ("duplicate-key", """{"clientId":"ws-9","count":0,"count":1,"serverId":"alpha","even":false,"even":true}"""),
        ("duplicate-key-case", """{"clientId":"ws-9","count":0,"COUNT":1,"serverId":"alpha","Even":false,"even":true}"""),
        ("bom-then-invalid", "\uFEFF{\"clientId\":\"ws-9\",\"count\":0}"),
        ("control-char-raw", "{\"clientId\":\"ws\u00019\",\"count\":1,\"serverId\":\"al\u0001pha\"}"),
        ("bad-escape", """{"clientId":"ws\q9","count":1}"""),
        ("short-unicode-escape", """{"clientId":"ws\u12","count":1}"""),
    ];

    private static IEnumerable<HostileCase> Json()
    {
        foreach (var (kind, body) in Malformed)
        {
            yield return J($"json.{kind}.checkout", Post, Checkout, Cred.Client, body);
            yield return J($"json.{kind}.heartbeat", Put, LeaseA1, Cred.Client, body);
            yield return J($"json.{kind}.distribution", Put, Distribution, Cred.Admin, body);
        }

        // Add-code and add-allocations take signed grants (issue 10); JSON that is not JSON is refused before any grant is read.
        foreach (var kind in new[] { "empty", "open-brace", "text", "nested-arrays-10000", "trailing-garbage", "array-of-object" })
        {
            var body = Malformed.Single(m => m.Kind == kind).Body;
            yield return J($"json.{kind}.add-code", Post, Licenses, Cred.Admin, body);
            yield return J($"json.{kind}.allocations", Post, Allocations, Cred.Admin, body);
        }

        // Bytes that are not UTF-8, and a lone surrogate escaped in a string.
        yield return new("json.invalid-utf8.checkout", Post, Checkout, Cred.Client, 400, Invalid,
            H.Bytes([.. "{\"clientId\":\"ws-"u8.ToArray(), 0xC3, 0x28, .. "\",\"count\":1}"u8.ToArray()]), H.Json);
        yield return new("json.overlong-utf8.checkout", Post, Checkout, Cred.Client, 400, Invalid,
            H.Bytes([.. "{\"clientId\":\"ws"u8.ToArray(), 0xC0, 0xAF, .. "\",\"count\":1}"u8.ToArray()]), H.Json);
        yield return new("json.raw-nul-byte.checkout", Post, Checkout, Cred.Client, 400, Invalid,
            H.Bytes([.. "{\"clientId\":\"ws"u8.ToArray(), 0x00, .. "\",\"count\":1}"u8.ToArray()]), H.Json);
        yield return new("json.utf16-body-as-utf8.checkout", Post, Checkout, Cred.Client, 400, Invalid,
            () => System.Text.Encoding.Unicode.GetBytes(CheckoutOf("\"ws-9\"")), H.Json);
    }

    /// <summary>Members of the wrong JSON type.</summary>
    private static IEnumerable<HostileCase> Types()
    {
        foreach (var (kind, value) in new[] { ("number", "42"), ("object", "{}"), ("array", "[\"ws-9\"]"), ("bool", "true"), ("null", "null") })
            yield return J($"type.client-id-{kind}.checkout", Post, Checkout, Cred.Client, CheckoutOf(value));
        foreach (var (kind, value) in new[] { ("string", "\"1\""), ("word", "\"one\""), ("bool", "true"), ("null", "null"), ("array", "[1]"), ("object", "{\"value\":1}") })
        {
            yield return J($"type.count-{kind}.checkout", Post, Checkout, Cred.Client, CheckoutOf("\"ws-9\"", value));
            yield return J($"type.count-{kind}.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(count: value));
        }

        yield return J("type.lease-id-number.checkout", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":1,"leaseId":12345}""");
        yield return J("type.lease-id-object.checkout", Post, Checkout, Cred.Client, """{"clientId":"ws-9","count":1,"leaseId":{"id":"x"}}""");
        yield return J("type.server-id-number.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: "1"));
        yield return J("type.server-id-array.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(serverId: "[\"alpha\"]"));
        yield return J("type.client-id-array.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(clientId: "[\"ws-1\"]"));
        yield return J("type.missing-client-id.heartbeat", Put, LeaseA1, Cred.Client, """{"count":2,"serverId":"alpha"}""");
        yield return J("type.missing-server-id.heartbeat", Put, LeaseA1, Cred.Client, """{"clientId":"ws-1","count":2}""");
        yield return J("type.missing-count.heartbeat", Put, LeaseA1, Cred.Client, """{"clientId":"ws-1","serverId":"alpha"}""");
        yield return J("type.missing-count.checkout", Post, Checkout, Cred.Client, """{"clientId":"ws-9"}""");
        yield return J("type.missing-client-id.checkout", Post, Checkout, Cred.Client, """{"count":1}""");
        yield return J("type.empty-object.checkout", Post, Checkout, Cred.Client, "{}");
        yield return J("type.empty-object.heartbeat", Put, LeaseA1, Cred.Client, "{}");
        yield return J("type.empty-object.distribution", Put, Distribution, Cred.Admin, "{}");
        yield return J("type.shares-array.distribution", Put, Distribution, Cred.Admin, """{"shares":[["alpha",5]]}""");
        yield return J("type.shares-string-value.distribution", Put, Distribution, Cred.Admin, """{"shares":{"alpha":"x"}}""");
        yield return J("type.even-string.distribution", Put, Distribution, Cred.Admin, """{"even":"true"}""");
        yield return J("type.threshold-string.distribution", Put, Distribution, Cred.Admin, """{"even":true,"defaultThreshold":"0.5"}""");
        yield return J("type.wrapped-body.checkout", Post, Checkout, Cred.Client, """{"body":{"clientId":"ws-9","count":1}}""");
    }

    /// <summary>Counts that are not a whole number of seats this request may have.</summary>
    private static IEnumerable<HostileCase> Counts()
    {
        (string Kind, string Value)[] counts =
        [
            ("zero", "0"), ("negative", "-1"), ("int-min", "-2147483648"), ("int-max", "2147483647"), ("over-int", "2147483648"),
            ("huge", "99999999999999999999999999"), ("over-max-count", "100000001"), ("float", "1.5"), ("float-whole", "1.0"),
            ("exponent", "1e0"), ("exponent-large", "1E+9"), ("negative-zero", "-0"), ("tiny-float", "1e-300"),
        ];
        foreach (var (kind, value) in counts)
        {
            yield return J($"count.{kind}.checkout", Post, Checkout, Cred.Client, CheckoutOf("\"ws-9\"", value));
            yield return J($"count.{kind}.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(count: value));
        }

        yield return J("count.over-seats.checkout", Post, Checkout, Cred.Client, CheckoutOf("\"ws-9\"", "11"));
        yield return J("count.over-free.checkout", Post, Checkout, Cred.Client, CheckoutOf("\"ws-9\"", "5"), 409, NoAllocation);
        yield return J("count.full-code.checkout", Post, Licenses + "/" + HostileFixture.CodeC + "/leases", Cred.Client, CheckoutOf("\"ws-9\""), 409, NoAllocation);
        yield return J("count.over-seats.heartbeat", Put, LeaseA1, Cred.Client, HeartbeatOf(count: "11"));
    }
}
