using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Orleans.Licensing.Server.Api;

/// <summary>
/// Reads a JSON request body ourselves, so that malformed JSON, a wrong content type or an out-of-range number is an
/// invalid-request problem like every other bad input, before any grain is called.
/// </summary>
public static class JsonBody
{
    public static async Task<T> ReadAsync<T>(HttpRequest request) where T : class
    {
        if (!request.HasJsonContentType())
        {
            throw Problems.Invalid("The body must be JSON (Content-Type: application/json).");
        }

        var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            return await request.ReadFromJsonAsync<T>(options, request.HttpContext.RequestAborted)
                ?? throw Problems.Invalid("A JSON object is required.");
        }
        catch (JsonException e)
        {
            throw Problems.Invalid($"The body is not valid JSON for this request: {e.Message}");
        }
    }
}
