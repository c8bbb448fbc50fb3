using System.Text;

namespace Orleans.Licensing.Server.Tests.Hostile;

/// <summary>
/// One kind of hostile or malformed request and what the server must answer: a 4xx problem whose stable type is
/// <see cref="Error"/>. <see cref="Name"/> is the kind's stable name (the test's display name).
/// </summary>
/// <param name="Body">Built when sent, so that megabyte bodies and signed grants cost nothing at discovery.</param>
/// <param name="ContentType">Sent as is (charset tricks included); null sends no Content-Type.</param>
/// <param name="ProblemBody">False only where Kestrel itself refuses the request before any application code runs (a request line or header block over its limits): there the answer is a bare 4xx.</param>
public sealed record HostileCase(
    string Name,
    HttpMethod Method,
    string Path,
    Cred Cred,
    int Status,
    string Error,
    Func<byte[]>? Body = null,
    string? ContentType = null,
    IReadOnlyList<KeyValuePair<string, string>>? Headers = null,
    Needs Needs = Needs.None,
    bool ProblemBody = true)
{
    public override string ToString() => Name;

    /// <summary>What makes two kinds distinct: the request as sent on the wire (the credential by role).</summary>
    public string Fingerprint()
    {
        var headers = string.Join("|", (Headers ?? []).Select(h => $"{h.Key}:{h.Value}"));
        var body = Body is null ? "" : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Needs.HasFlag(Needs.Grants) ? Encoding.UTF8.GetBytes(Name) : Body()));
        return $"{Method} {Path} {Cred} {ContentType ?? "<no content type>"} {headers} {body}";
    }
}

/// <summary>Short builders for the catalogue.</summary>
public static class H
{
    public const string Json = "application/json";

    public static Func<byte[]> Utf8(string text) => () => Encoding.UTF8.GetBytes(text);

    public static Func<byte[]> Bytes(params byte[] bytes) => () => bytes;

    public static IReadOnlyList<KeyValuePair<string, string>> Header(params (string Name, string Value)[] headers) =>
        [.. headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))];

    /// <summary>A JSON string literal of <paramref name="value"/> with every non-ASCII or control character escaped.</summary>
    public static string Str(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in value)
        {
            if (c is '"' or '\\') sb.Append('\\').Append(c);
            else if (c < 0x20 || c > 0x7e) sb.Append($"\\u{(int)c:x4}");
            else sb.Append(c);
        }

        return sb.Append('"').ToString();
    }

    public static string Repeat(string s, int times) => string.Concat(Enumerable.Repeat(s, times));
}
