using System.Globalization;
using System.Text;
using Orleans.Dashboard;
using Orleans.Licensing.Server.Observability;
using Orleans.Licensing.Server.Security;
using Orleans.Licensing.Usage;

namespace Orleans.Licensing.Server.Api;

/// <summary>
/// Every admin surface of a server, mapped here and only here: the pool view (/pool/), the usage API
/// (/api/v1/usage, /api/v1/usage/report), the Prometheus endpoint (/metrics) and the Orleans Dashboard (/dashboard).
/// The pool view and the dashboard (which shows grain state) need the admin credential; the usage API and the metrics
/// a reader's (what reporting tools and a Prometheus server with a bearer token hold).
/// </summary>
public static class ObservabilityEndpoints
{
    public const int DefaultLimit = 1_000;
    public const int MaxLimit = 10_000;
    public static readonly TimeSpan MaxReportPeriod = TimeSpan.FromDays(366);

    public static WebApplication MapAdminSurfaces(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<ObservabilitySettings>();
        var usage = app.MapGroup("/api/v1/usage").AddEndpointFilter<ProblemFilter>().WithTags("Usage").RequireAuthorization(LicensingPolicies.Reader)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        usage.MapGet("/", EventsAsync)
            .WithName("GetUsage").WithSummary("Usage events from the durable log: code, since, until (ISO 8601), kind (comma-separated), limit, order=asc|desc (desc: the newest first), format=json|csv");
        usage.MapGet("/report", ReportAsync)
            .WithName("GetUsageReport").WithSummary("Peak concurrent seats in use per code per day, denials per day, and instants above the seats");

        if (settings.Prometheus) app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(LicensingPolicies.Reader);
        if (settings.Dashboard) app.MapOrleansDashboard(routePrefix: "/dashboard").RequireAuthorization(LicensingPolicies.Admin);

        app.MapGet("/pool/{file?}", PoolAsset).ExcludeFromDescription().RequireAuthorization(LicensingPolicies.Admin);
        return app;
    }

    private static async Task<IResult> EventsAsync(HttpContext context, UsageQueries queries, string? code, string? since, string? until, string? kind, string? limit, string? format, string? order)
    {
        var (from, to) = (Time(since, "since"), Time(until, "until"));
        if (from is { } f && to is { } t && f >= t) throw Problems.Invalid("'since' must be before 'until'.");
        var take = limit is null ? DefaultLimit : int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit
            ? n : throw Problems.Invalid($"'limit' must be a whole number from 1 to {MaxLimit}.");
        var kinds = Kinds(kind);
        var csv = Format(format);
        var newest = order switch
        {
            null or "" or "asc" => false,
            "desc" => true,
            _ => throw Problems.Invalid("'order' must be asc or desc."),
        };
        var events = await queries.EventsAsync(new UsageQuery(Code(code), from, to, kinds, take, newest), context.RequestAborted);
        return csv ? Results.Text(Csv(events), "text/csv; charset=utf-8") : Results.Ok(events);
    }

    private static async Task<IResult> ReportAsync(HttpContext context, UsageQueries queries, IGrantVerifier verifier, string? code, string? since, string? until, string? format)
    {
        var to = Time(until, "until") ?? DateTimeOffset.UtcNow;
        var from = Time(since, "since") ?? new DateTimeOffset(to.UtcDateTime.Date, TimeSpan.Zero).AddDays(-6);
        if (from >= to) throw Problems.Invalid("'since' must be before 'until'.");
        if (to - from > MaxReportPeriod) throw Problems.Invalid($"A report covers at most {MaxReportPeriod.TotalDays} days.");
        var csv = Format(format);
        var report = await queries.ReportAsync(Code(code), from, to, context.RequestAborted);
        var body = new UsageReportResponse(from, to, report.Days, report.OverIssues, Orleans.Licensing.Grants.TrustModes.Describe(verifier.Mode));
        return csv ? Results.Text(ReportCsv(report), "text/csv; charset=utf-8") : Results.Ok(body);
    }

    private static string? Code(string? code) => string.IsNullOrEmpty(code) ? null : Validate.Code(code);

    private static DateTimeOffset? Time(string? value, string name)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)) return time;
        throw Problems.Invalid($"'{name}' must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z or 2026-12-01.");
    }

    private static IReadOnlyList<string>? Kinds(string? kind)
    {
        if (string.IsNullOrEmpty(kind)) return null;
        var kinds = kind.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (kinds.FirstOrDefault(k => !UsageKinds.All.Contains(k)) is { } unknown)
        {
            throw Problems.Invalid($"Unknown kind '{unknown}'; the kinds are {string.Join(", ", UsageKinds.All)}.");
        }

        return kinds;
    }

    private static bool Format(string? format) => format switch
    {
        null or "" or "json" => false,
        "csv" => true,
        _ => throw Problems.Invalid("'format' must be json or csv."),
    };

    internal static string Csv(IEnumerable<UsageEvent> events)
    {
        // New columns go at the end: a script that reads the first eight by position keeps working.
        var s = new StringBuilder("at,kind,code,server,client,count,lease,detail,actor,owner_user,owner_host\n");
        foreach (var e in events)
        {
            s.Append(CultureInfo.InvariantCulture, $"{e.At.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ},{e.Kind},{Field(e.Code)},{Field(e.ServerId)},{Field(e.ClientId)},{e.Count},{Field(e.LeaseId)},{Field(e.Detail)},{Field(e.Actor)},{Field(e.OwnerUser)},{Field(e.OwnerHost)}\n");
        }

        return s.ToString();
    }

    private static string ReportCsv(UsageReportResult report)
    {
        var s = new StringBuilder("code,day,peak_in_use,peak_at,denials,checkouts\n");
        foreach (var d in report.Days)
        {
            s.Append(CultureInfo.InvariantCulture, $"{Field(d.Code)},{d.Day:yyyy-MM-dd},{d.PeakInUse},{d.PeakAt?.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ},{d.Denials},{d.Checkouts}\n");
        }

        return s.ToString();
    }

    private static string Field(string? value) => Orleans.Licensing.Grants.CsvCell.Of(value);

    private static IResult PoolAsset(HttpContext context, string? file)
    {
        // Routing ignores a trailing slash: "/pool" gets here too, and the page's relative URLs need "/pool/".
        if (file is null && context.Request.Path.Value?.EndsWith('/') != true) return Results.Redirect("/pool/");
        var name = string.IsNullOrEmpty(file) ? "index.html" : file;
        var stream = typeof(ObservabilityEndpoints).Assembly.GetManifestResourceStream("pool/" + name);
        if (stream is null) return Results.NotFound();
        var type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }
}

/// <param name="OverIssues">Instants where the log counts more seats in use than the code had: empty when all is well.</param>
/// <param name="Trust">Which vendor keys signed the seats reported: "configured keys", "vendor keys" or "trial keys".</param>
public sealed record UsageReportResponse(DateTimeOffset Since, DateTimeOffset Until, IReadOnlyList<UsageDay> Days, IReadOnlyList<OverIssue> OverIssues, string Trust);
