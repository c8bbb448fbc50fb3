using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Orleans.Licensing.Server.Api;

/// <summary>
/// Reads a JSON request body ourselves, so that malformed JSON, a wrong content type or an out-of-range number is an
/// invalid-request problem like every other bad input, before any grain is called.
/// </summary>
/// <remarks>
/// Stricter than the framework's reader, because one body must mean one thing: UTF-8 only (RFC 8259 §8.1; a charset
/// the runtime cannot decode was a 500), no content coding (nothing here decodes gzip), and no duplicate members
/// (<c>{"count":0,"count":5}</c> would otherwise pass validation as 5 in one reader and 0 in another).
/// </remarks>
public static class JsonBody
{
    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> Strict = [];

    /// <summary>An optional body: none (no content) is null; a body that is there is read as <see cref="ReadAsync{T}"/> does.</summary>
    public static async Task<T?> ReadOptionalAsync<T>(HttpRequest request) where T : class =>
        request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.ContainsKey("Transfer-Encoding") && string.IsNullOrEmpty(request.ContentType))
            ? null
            : await ReadAsync<T>(request);

    public static async Task<T> ReadAsync<T>(HttpRequest request) where T : class
    {
        if (!request.HasJsonContentType())
        {
            throw Problems.Invalid("The body must be JSON (Content-Type: application/json).");
        }

        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.Charset.HasValue
            && !type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !type.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Invalid("A JSON body must be UTF-8 (Content-Type: application/json; charset=utf-8).");
        }

        if (request.Headers.ContentEncoding.Count > 0 && request.Headers.ContentEncoding.ToString() is var coding && !coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Invalid("A Content-Encoding of the request body is not supported: send it uncompressed.");
        }

        var configured = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var options = Strict.GetValue(configured, o => new JsonSerializerOptions(o) { AllowDuplicateProperties = false });
        T? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<T>(request.Body, options, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            throw Problems.Invalid($"The body is not valid JSON for this request: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // Invalid UTF-16 in an escaped string (a lone surrogate) is reported this way by the reader.
            throw Problems.Invalid($"The body is not valid JSON for this request: {e.Message}");
        }

        if (body is null) throw Problems.Invalid("A JSON object is required.");
        if (body is DistributionRequest change) Validate.Distribution(change, requireMode: true);
        if (body is AddLicenseRequest add) Validate.Distribution(add.Distribution, requireMode: false);
        return body;
    }
}
