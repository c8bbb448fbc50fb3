using System.Globalization;
using System.Net.Http;

namespace Orleans.Licensing.Client;

/// <summary>One entry of the usage report log (GET /api/v1/usage).</summary>
/// <param name="Actor">Who made an admin change (an API key id, jwt:&lt;sub&gt;).</param>
/// <param name="OwnerUser">The user a checkout's client named.</param>
public sealed record UsageEventInfo(
    DateTimeOffset At, string Kind, string Code, string ServerId, string? ClientId, int Count, string? LeaseId, string? Detail,
    string? Actor = null, string? OwnerUser = null, string? OwnerHost = null);

/// <summary>One code's day: peak concurrent seats in use (and when), denials and checkouts.</summary>
public sealed record UsageDayInfo(string Code, DateOnly Day, int PeakInUse, DateTimeOffset? PeakAt, int Denials, int Checkouts);

/// <summary>An instant where the log counts more seats in use than the code had.</summary>
public sealed record OverIssueInfo(string Code, DateTimeOffset At, int InUse, int Seats);

public sealed record UsageReportInfo(DateTimeOffset Since, DateTimeOffset Until, IReadOnlyList<UsageDayInfo> Days, IReadOnlyList<OverIssueInfo> OverIssues);

public sealed partial class LicensingClient
{
    /// <summary>Usage events from the durable log, in time order; <paramref name="kinds"/> null: every kind.</summary>
    public Task<IReadOnlyList<UsageEventInfo>> GetUsageAsync(
        string? code = null, DateTimeOffset? since = null, DateTimeOffset? until = null, IEnumerable<string>? kinds = null, int? limit = null,
        CancellationToken cancellationToken = default)
    {
        var path = "api/v1/usage" + Query(("code", code), ("since", UtcText(since)), ("until", UtcText(until)),
            ("kind", kinds is null ? null : string.Join(',', kinds)), ("limit", limit?.ToString(CultureInfo.InvariantCulture)));
        return AnyAsync((api, s, ct) => api.SendAsync<IReadOnlyList<UsageEventInfo>>(s, HttpMethod.Get, path, null, ct), idempotent: true, cancellationToken);
    }

    /// <summary>Peak concurrent seats in use per code per day and denials per day (default: the last 7 days).</summary>
    public Task<UsageReportInfo> GetUsageReportAsync(string? code = null, DateTimeOffset? since = null, DateTimeOffset? until = null, CancellationToken cancellationToken = default)
    {
        var path = "api/v1/usage/report" + Query(("code", code), ("since", UtcText(since)), ("until", UtcText(until)));
        return AnyAsync((api, s, ct) => api.SendAsync<UsageReportInfo>(s, HttpMethod.Get, path, null, ct), idempotent: true, cancellationToken);
    }

    private static string? UtcText(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var set = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return set.Count == 0 ? "" : "?" + string.Join('&', set);
    }
}
