namespace Orleans.Licensing.Server.Api;

/// <summary>RFC 7807 problem details with one stable <c>type</c> URI per error of <see cref="LicensingErrors"/>.</summary>
public static class Problems
{
    public const string TypeBase = "https://orleans-licensing.dev/problems/";
    public const string Unavailable = "unavailable";

    public static IResult From(LicensingException e, HttpContext context) => Create(e.Error, e.Message, context);

    public static IResult Create(string error, string detail, HttpContext context)
    {
        var (status, title) = error switch
        {
            LicensingErrors.InvalidRequest => (StatusCodes.Status400BadRequest, "The request is invalid."),
            LicensingErrors.UnknownLicense => (StatusCodes.Status404NotFound, "The license code is unknown."),
            LicensingErrors.LeaseUnknown => (StatusCodes.Status404NotFound, "The lease is expired or unknown."),
            LicensingErrors.NoAllocation => (StatusCodes.Status409Conflict, "No allocation can be found."),
            LicensingErrors.Conflict => (StatusCodes.Status409Conflict, "The request conflicts with the current state."),
            LicensingErrors.LicenseExpired => (StatusCodes.Status403Forbidden, "The license code has expired."),
            Unavailable => (StatusCodes.Status503ServiceUnavailable, "The license server cannot serve this now; try another one."),
            _ => (StatusCodes.Status500InternalServerError, "Unexpected error."),
        };

        return Results.Problem(
            detail: detail,
            instance: context.Request.Path,
            statusCode: status,
            title: title,
            type: TypeBase + error,
            extensions: new Dictionary<string, object?> { ["error"] = error });
    }

    public static LicensingException Invalid(string message) => new(LicensingErrors.InvalidRequest, message);
}
