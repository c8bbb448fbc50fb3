using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Server.Api;

/// <summary>RFC 7807 problem details with one stable <c>type</c> URI per error of <see cref="LicensingErrors"/>.</summary>
public static class Problems
{
    public const string TypeBase = ErrorStatus.TypeBase;
    public const string Unavailable = LicensingErrors.Unavailable;

    public static IResult From(LicensingException e, HttpContext context) => Create(e.Error, e.Message, context);

    public static IResult Create(string error, string detail, HttpContext context)
    {
        var (status, title) = ErrorStatus.Of(error) ?? error switch
        {
            GrantErrors.Malformed => (StatusCodes.Status400BadRequest, "The grant is malformed."),
            GrantErrors.Mismatch => (StatusCodes.Status400BadRequest, "The grant does not fit this request."),
            GrantErrors.Signature => (StatusCodes.Status403Forbidden, "The grant's signature does not verify."),
            GrantErrors.UntrustedKey => (StatusCodes.Status403Forbidden, "The grant is signed with a key this server does not trust."),
            GrantErrors.Expired => (StatusCodes.Status403Forbidden, "The grant has expired."),
            _ => (StatusCodes.Status500InternalServerError, "Unexpected error."),
        };

        var problem = Results.Problem(
            detail: detail,
            instance: context.Request.Path,
            statusCode: status,
            title: title,
            type: TypeBase + error,
            extensions: new Dictionary<string, object?> { ["error"] = error });
        return status == StatusCodes.Status503ServiceUnavailable ? new WithRetryAfter(problem) : problem;
    }

    /// <summary>Seconds a client should wait before it asks this server again (it may try another one at once).</summary>
    public const int RetryAfterSeconds = 1;

    /// <summary>Every 503 says when to come back (RFC 9110 §10.2.3), so clients and proxies retry instead of giving up.</summary>
    private sealed class WithRetryAfter(IResult inner) : IResult, IStatusCodeHttpResult, IValueHttpResult
    {
        public int? StatusCode => (inner as IStatusCodeHttpResult)?.StatusCode;

        public object? Value => (inner as IValueHttpResult)?.Value;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }

    /// <summary>
    /// Problems ASP.NET Core writes itself (a body that is not JSON is refused with 415 before our code runs) get the
    /// same stable type as ours.
    /// </summary>
    public static void CustomizeFrameworkProblem(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Type?.StartsWith(TypeBase, StringComparison.Ordinal) == true) return;
        var error = problem.Status switch
        {
            StatusCodes.Status400BadRequest or StatusCodes.Status415UnsupportedMediaType => LicensingErrors.InvalidRequest,
            StatusCodes.Status404NotFound => LicensingErrors.NotFound,
            StatusCodes.Status405MethodNotAllowed => LicensingErrors.MethodNotAllowed,
            StatusCodes.Status413PayloadTooLarge => LicensingErrors.BodyTooLarge,
            _ => null,
        };
        if (error is null) return;
        problem.Type = TypeBase + error;
        problem.Extensions["error"] = error;
        problem.Detail ??= problem.Status == StatusCodes.Status415UnsupportedMediaType ? "The body must be JSON (Content-Type: application/json)." : problem.Title;
    }

    public static LicensingException Invalid(string message) => new(LicensingErrors.InvalidRequest, message);
}
