namespace Orleans.Licensing.Server.Api;

/// <summary>Turns a refused request into its problem details, and a transient Orleans failure (see <see cref="TransientFailures"/>) into 503 + Retry-After so clients retry or fail over.</summary>
public sealed partial class ProblemFilter(ILogger<ProblemFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (LicensingException e)
        {
            return Problems.From(e, context.HttpContext);
        }
        catch (Exception e) when (TransientFailures.Is(e))
        {
            LogUnavailable(e, context.HttpContext.Request.Path);
            return Problems.Create(Problems.Unavailable, e.Message, context.HttpContext);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: the pool could not be reached")]
    private partial void LogUnavailable(Exception e, string path);
}
