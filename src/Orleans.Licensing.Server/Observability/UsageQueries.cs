using Microsoft.Extensions.Options;
using Orleans.Licensing.Usage;

namespace Orleans.Licensing.Server.Observability;

/// <summary>What the usage API, the pool view and the over-issue checker read from the durable usage log.</summary>
public sealed class UsageQueries(IUsageStore store, IGrainFactory grains, IOptions<LicensingOptions> options, IOptions<UsageLogOptions> log)
{
    /// <summary>The most events one report reads; a longer period is answered as "too large" rather than slowly.</summary>
    public const int ReportEventLimit = 2_000_000;

    public bool IsDurable => store.IsDurable;

    public Task<IReadOnlyList<UsageEvent>> EventsAsync(UsageQuery query, CancellationToken cancellationToken) => store.QueryAsync(query, cancellationToken);

    /// <summary>
    /// Peak seats in use per code per day and denials per day in [since, until), plus the instants above the seats.
    /// Reads two lease lifetimes plus the heartbeat sample interval before <paramref name="since"/>, so leases held at <paramref name="since"/> count.
    /// </summary>
    public async Task<UsageReportResult> ReportAsync(string? code, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        string[] kinds = [.. UsageKinds.LeaseChanges, UsageKinds.Denial, UsageKinds.AllocationsAdded];
        var from = since - UsageReport.Lookback(options.Value.LeaseTtl, log.Value.HeartbeatSampleInterval);
        var events = await store.QueryAsync(new UsageQuery(code, from, until, kinds, ReportEventLimit + 1), cancellationToken);
        if (events.Count > ReportEventLimit)
        {
            throw new LicensingException(LicensingErrors.InvalidRequest, $"The period holds more than {ReportEventLimit} usage events: ask for a shorter one or one code.");
        }

        // Allocations added after `until` count too: the seats of an instant are today's seats minus what came after it.
        var seats = new Dictionary<string, int?>(StringComparer.Ordinal);
        foreach (var c in events.Select(e => e.Code).Distinct(StringComparer.Ordinal))
        {
            var distribution = await grains.GetGrain<IPoolGrain>(c).GetDistribution();
            var later = until < DateTimeOffset.UtcNow
                ? (await store.QueryAsync(new UsageQuery(c, until, null, [UsageKinds.AllocationsAdded], 100_000), cancellationToken)).Sum(e => e.Count)
                : 0;
            seats[c] = distribution is null ? null : distribution.Total - later;
        }

        return UsageReport.Compute(events, since, until, c => seats.GetValueOrDefault(c));
    }
}
