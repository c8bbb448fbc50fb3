using Microsoft.AspNetCore.Http.Features;

namespace Orleans.Licensing.Server.Api;

/// <summary>
/// Turns a refused request into its problem details, and a transient Orleans failure (see <see cref="TransientFailures"/>)
/// into 503 + Retry-After so clients retry or fail over. Every API request body is limited to
/// <c>Licensing:Security:MaxRequestBodyBytes</c> (default 64 KiB: the largest real body, a distribution of a big pool, is a
/// few KiB): an announced larger body is refused before it is read, a chunked one as soon as it passes the limit.
/// </summary>
public sealed partial class ProblemFilter(ILogger<ProblemFilter> logger, IConfiguration? configuration = null) : IEndpointFilter
{
    public const long DefaultMaxRequestBodyBytes = 65_536;

    /// <summary>The detail of every 503 from an Orleans failure: what the client should do, nothing of the pool's insides.</summary>
    public const string UnavailableDetail = "The pool could not serve this request now (a license server or the store did not answer in time): retry, or try another server.";

    public const string BadBodyDetail = "The request body ended early or is malformed.";

    private readonly long _maxBodyBytes = configuration?.GetValue("Licensing:Security:MaxRequestBodyBytes", DefaultMaxRequestBodyBytes) ?? DefaultMaxRequestBodyBytes;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.Request.ContentLength > _maxBodyBytes) return TooLarge(http);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = _maxBodyBytes;
        try
        {
            return await next(context);
        }
        catch (LicensingException e)
        {
            return Problems.From(e, http);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(http);
        }
        catch (BadHttpRequestException e)
        {
            // The body ended early or was malformed on the wire. Kestrel's text stays in the log.
            LogBadRequest(e, http.Request.Path);
            return Problems.Create(LicensingErrors.InvalidRequest, BadBodyDetail, http);
        }
        catch (Exception e) when (TransientFailures.Is(e))
        {
            // Orleans' messages name silo addresses, grain ids and message headers: the log has them, the client a fixed text.
            LogUnavailable(e, http.Request.Path);
            return Problems.Create(Problems.Unavailable, UnavailableDetail, http);
        }
    }

    private IResult TooLarge(HttpContext http)
    {
        // The rest of the body is not read: the connection is closed after this answer rather than drained.
        http.Response.Headers.Connection = "close";
        return Problems.Create(LicensingErrors.BodyTooLarge, $"The request body is larger than {_maxBodyBytes} bytes.", http);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: the pool could not be reached")]
    private partial void LogUnavailable(Exception e, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path}: a malformed request body")]
    private partial void LogBadRequest(Exception e, string path);
}
