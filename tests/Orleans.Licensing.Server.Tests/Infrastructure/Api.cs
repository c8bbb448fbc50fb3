using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>Raw HTTP helpers: what a client in any language would send, and the problem details it gets back.</summary>
public static class Api
{
    public const string ProblemBase = "https://orleans-licensing.dev/problems/";

    public static async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(
        this HttpClient http, HttpMethod method, string path, string? json = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, contentType);
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var isJson = response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.Ordinal) == true;
        return (response.StatusCode, text.Length == 0 || !isJson ? null : JsonNode.Parse(text), response);
    }

    /// <summary>Asserts an RFC 7807 answer with the stable type of <paramref name="error"/>.</summary>
    public static void AssertProblem((HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response) answer, HttpStatusCode status, string error)
    {
        Assert.True(answer.Status == status, $"Expected {(int)status} {error}, got {(int)answer.Status}: {answer.Body?.ToJsonString()}");
        Assert.Equal("application/problem+json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ProblemBase + error, (string?)answer.Body!["type"]);
        Assert.Equal((int)status, (int)answer.Body["status"]!);
        Assert.Equal(error, (string?)answer.Body["error"]);
        Assert.False(string.IsNullOrEmpty((string?)answer.Body["detail"]));
    }

    public static int Int(this JsonNode? node, string name) => node![name]!.GetValue<int>();

    public static JsonNode Share(this JsonNode? license, string serverId) =>
        license!["servers"]!.AsArray().Single(s => (string)s!["serverId"]! == serverId)!;
}
