using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.Licensing.Client;

/// <summary>One call to one license server. A 4xx problem becomes <see cref="LicensingProblemException"/>; a 5xx,
/// 408 or 429 becomes <see cref="HttpRequestException"/> so that the caller moves on to the next server.</summary>
internal sealed class LicensingHttpApi(HttpClient http, string? apiKey)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async Task<T> SendAsync<T>(Uri server, HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var response = await SendCoreAsync(server, method, path, body, ct);
        return await response.Content.ReadFromJsonAsync<T>(Json, ct)
            ?? throw new HttpRequestException($"{server} answered {path} with an empty body.");
    }

    public async Task SendAsync(Uri server, HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var _ = await SendCoreAsync(server, method, path, body, ct);
    }

    private async Task<HttpResponseMessage> SendCoreAsync(Uri server, HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(server, path));
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        if (!string.IsNullOrEmpty(apiKey)) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        var response = await http.SendAsync(request, ct);
        if (response.IsSuccessStatusCode) return response;

        using (response)
        {
            var status = (int)response.StatusCode;
            if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
            {
                throw new HttpRequestException($"{server} answered {status} to {method} {path}.", null, response.StatusCode);
            }

            throw new LicensingProblemException(status, await ReadProblemAsync(response, ct), server);
        }
    }

    private static async Task<ProblemInfo> ReadProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<ProblemInfo>(Json, ct) ?? Unstructured(response);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return Unstructured(response);
        }
    }

    private static ProblemInfo Unstructured(HttpResponseMessage response) =>
        new(null, response.ReasonPhrase, (int)response.StatusCode, null, null);
}
