using System.Diagnostics.Metrics;
using Orleans.Licensing.Usage;

namespace Orleans.Licensing.Server.Observability;

/// <summary>
/// Re-reads the last hour of the usage log every <see cref="ObservabilitySettings.OverIssueCheckInterval"/> and counts,
/// per code, the instants where the seats in use it recomputes exceed the code's seats: the gauge
/// <c>licensing.usage.over_issues</c> (0 when all is well) and <see cref="Last"/> for the pool view.
/// </summary>
public sealed partial class OverIssueChecker(UsageQueries usage, ObservabilitySettings settings, ILogger<OverIssueChecker> logger) : BackgroundService
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    private readonly Meter _meter = new(LicensingTelemetry.Name);
    private volatile IReadOnlyList<OverIssue> _last = [];

    /// <summary>The over-issue instants of the last check.</summary>
    public IReadOnlyList<OverIssue> Last => _last;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.OverIssueCheckInterval <= TimeSpan.Zero || !usage.IsDurable) return;
        _meter.CreateObservableGauge("licensing.usage.over_issues", Measure, "{instant}", "Per code with any: instants in the last hour where the usage log counts more seats in use than the code has");
        _meter.CreateObservableGauge("licensing.usage.codes_over_issued", () => _last.Select(o => o.Code).Distinct().Count(), "{code}", "Codes with any over-issue instant in the last hour (0 when all is well)");
        using var timer = new PeriodicTimer(settings.OverIssueCheckInterval);
        do
        {
            try
            {
                var now = DateTimeOffset.UtcNow;
                _last = (await usage.ReportAsync(null, now - Window, now, stoppingToken)).OverIssues;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogCheckFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private IEnumerable<Measurement<int>> Measure() =>
        _last.GroupBy(o => o.Code).Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("licensing.code", g.Key)));

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The over-issue check of the usage log failed")]
    private partial void LogCheckFailed(Exception e);
}
