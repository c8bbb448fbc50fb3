using System.IO.Compression;
using System.Text;

namespace Orleans.Licensing.Server.Tests.Hostile;

public static partial class HostileCatalogue
{
    /// <summary>A checkout that would be granted (4 of A's 10 seats are free): only its framing is wrong.</summary>
    private static readonly string Grantable = CheckoutOf("\"ws-9\"");

    private static IEnumerable<HostileCase> ContentTypes()
    {
        (string Kind, string? Type)[] types =
        [
            ("missing", null), ("text-plain", "text/plain"), ("xml", "application/xml"), ("form", "application/x-www-form-urlencoded"),
            ("multipart", "multipart/form-data; boundary=x"), ("octet-stream", "application/octet-stream"), ("empty", ""),
            ("garbage", "%%%"), ("json-prefix", "application/jsonx"), ("json-as-param", "text/plain; type=application/json"),
            ("list", "text/plain, application/json"), ("no-subtype", "application"),
            ("charset-unknown", "application/json; charset=x-no-such-charset"), ("charset-utf7", "application/json; charset=utf-7"),
            ("charset-ebcdic", "application/json; charset=IBM037"), ("charset-latin1", "application/json; charset=iso-8859-1"),
            ("charset-empty", "application/json; charset="), ("charset-utf16-on-utf8", "application/json; charset=utf-16"),
        ];
        // The framework refuses a body that does not claim to be JSON with 415 (its problem gets our stable type).
        string[] unsupported = ["text-plain", "xml", "form", "multipart", "octet-stream", "garbage", "json-prefix", "json-as-param", "list", "no-subtype"];
        foreach (var (kind, type) in types)
            yield return new($"content-type.{kind}.checkout", Post, Checkout, Cred.Client, unsupported.Contains(kind) ? 415 : 400, Invalid, H.Utf8(Grantable), type);

        foreach (var (kind, type) in new[] { ("missing", (string?)null), ("text-plain", "text/plain"), ("charset-unknown", "application/json; charset=x-no-such-charset") })
        {
            var status = kind == "text-plain" ? 415 : 400;
            yield return new($"content-type.{kind}.heartbeat", Put, LeaseA1, Cred.Client, status, Invalid, H.Utf8(HeartbeatOf()), type);
            yield return new($"content-type.{kind}.distribution", Put, Distribution, Cred.Admin, status, Invalid, H.Utf8("""{"even":true}"""), type);
        }

        // A valid body in UTF-16 or UTF-32, announced so: JSON on the wire is UTF-8 (RFC 8259 §8.1).
        yield return new("content-type.utf16-body.checkout", Post, Checkout, Cred.Client, 400, Invalid,
            () => Encoding.Unicode.GetBytes(Grantable), "application/json; charset=utf-16");
        yield return new("content-type.utf32-body.checkout", Post, Checkout, Cred.Client, 400, Invalid,
            () => Encoding.UTF32.GetBytes(Grantable), "application/json; charset=utf-32");

        // Content codings the server does not decode.
        yield return new("content-encoding.gzip-bytes.checkout", Post, Checkout, Cred.Client, 400, Invalid, () => Gzip(Grantable), H.Json, H.Header(("Content-Encoding", "gzip")));
        yield return new("content-encoding.gzip-claimed-plain.checkout", Post, Checkout, Cred.Client, 400, Invalid, H.Utf8(Grantable), H.Json, H.Header(("Content-Encoding", "gzip")));
        yield return new("content-encoding.unknown.checkout", Post, Checkout, Cred.Client, 400, Invalid, H.Utf8(Grantable), H.Json, H.Header(("Content-Encoding", "x-evil")));
    }

    private static IEnumerable<HostileCase> Sizes()
    {
        const int limit = 65_536;
        yield return new("size.1mb-client-id.checkout", Post, Checkout, Cred.Client, 413, TooLarge, () => Encoding.UTF8.GetBytes(CheckoutOf(H.Str(new string('x', 1 << 20)))), H.Json);
        yield return new("size.2mb-whitespace-then-grantable.checkout", Post, Checkout, Cred.Client, 413, TooLarge, () => Encoding.UTF8.GetBytes(new string(' ', 2 << 20) + Grantable), H.Json);
        yield return new("size.just-over-limit.checkout", Post, Checkout, Cred.Client, 413, TooLarge, () => Encoding.UTF8.GetBytes(Grantable + new string(' ', limit + 1 - Grantable.Length)), H.Json);
        yield return new("size.chunked-1mb.checkout", Post, Checkout, Cred.Client, 413, TooLarge, () => Encoding.UTF8.GetBytes(new string(' ', 1 << 20) + Grantable), H.Json,
            H.Header(("Transfer-Encoding", "chunked")));
        yield return new("size.1mb-garbage.heartbeat", Put, LeaseA1, Cred.Client, 413, TooLarge, () => new byte[1 << 20], H.Json);
        yield return new("size.1mb-shares.distribution", Put, Distribution, Cred.Admin, 413, TooLarge,
            () => Encoding.UTF8.GetBytes("{\"shares\":{" + string.Join(",", Enumerable.Range(0, 60_000).Select(i => $"\"s{i}\":0")) + "}}"), H.Json);
        yield return new("size.1mb.add-code", Post, Licenses, Cred.Admin, 413, TooLarge, () => Encoding.UTF8.GetBytes($$"""{"grant":"{{new string('A', 1 << 20)}}"}"""), H.Json);
        yield return new("size.1mb.allocations", Post, Allocations, Cred.Admin, 413, TooLarge, () => Encoding.UTF8.GetBytes($$"""{"grant":"{{new string('A', 1 << 20)}}"}"""), H.Json);
        yield return new("size.1mb-body.checkin", Delete, LeaseA1 + "?clientId=ws-1", Cred.Client, 413, TooLarge, () => new byte[1 << 20], H.Json);
        yield return new("size.1mb-body.get", Get, A, Cred.Reader, 413, TooLarge, () => new byte[1 << 20], H.Json);
        yield return new("size.just-over-limit.distribution", Put, Distribution, Cred.Admin, 413, TooLarge, () => Encoding.UTF8.GetBytes("{\"even\":true}" + new string(' ', limit)), H.Json);
        yield return new("size.no-body.checkout", Post, Checkout, Cred.Client, 400, Invalid);
        yield return new("size.no-body.heartbeat", Put, LeaseA1, Cred.Client, 400, Invalid);
        yield return new("size.no-body.distribution", Put, Distribution, Cred.Admin, 400, Invalid);
    }

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return buffer.ToArray();
    }
}
