using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Orleans.Licensing.Server.Api;

/// <summary>
/// Writes every framework problem (404, 405, 415 from status-code pages) as <c>application/problem+json</c>, whatever the
/// request's Accept header says: the default writer falls back to <c>text/plain</c> for <c>Accept: text/html</c>, so a
/// client could not rely on the stable <c>type</c>. Register before <c>AddProblemDetails</c>:
/// <c>builder.Services.AddSingleton&lt;IProblemDetailsWriter, ProblemJsonWriter&gt;()</c>.
/// </summary>
public sealed class ProblemJsonWriter(IOptions<ProblemDetailsOptions> options, IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        options.Value.CustomizeProblemDetails?.Invoke(context);
        var problem = context.ProblemDetails;
        problem.Status ??= context.HttpContext.Response.StatusCode;
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(problem, json.Value.SerializerOptions, "application/problem+json"));
    }
}
