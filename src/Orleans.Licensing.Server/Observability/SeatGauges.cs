using System.Diagnostics.Metrics;
using Orleans.Licensing.Server.Hosting;
using Orleans.Licensing.Usage;

namespace Orleans.Licensing.Server.Observability;

/// <summary>
/// Observable gauges of seats: this server's allocated / in use / held per code (<c>licensing.seats.*</c>), and the
/// free pool of the codes whose leader runs on this server (<c>licensing.free_pool</c>), so that a scrape of every
/// server counts each number once. Read from the leaders every <see cref="ObservabilitySettings.GaugeInterval"/>;
/// in use is as last reported to the leader (every sweep).
/// </summary>
public sealed partial class SeatGauges : BackgroundService
{
    private readonly IGrainFactory _grains;
    private readonly ServerSettings _server;
    private readonly ObservabilitySettings _settings;
    private readonly ILogger<SeatGauges> _logger;
    private readonly Meter _meter = new(LicensingTelemetry.Name);
    private volatile IReadOnlyList<Distribution> _snapshot = [];

    public SeatGauges(IGrainFactory grains, ServerSettings server, ObservabilitySettings settings, ILogger<SeatGauges> logger)
    {
        (_grains, _server, _settings, _logger) = (grains, server, settings, logger);
        _meter.CreateObservableGauge("licensing.seats.allocated", () => Rows(s => s.Allocated), "{seat}", "Allocations this server manages, per code");
        _meter.CreateObservableGauge("licensing.seats.in_use", () => Rows(s => s.InUse), "{seat}", "Seats in use at this server, per code (as last reported to the leader)");
        _meter.CreateObservableGauge("licensing.seats.held", () => Rows(s => s.Held), "{seat}", "Allocations of this server held for fail-over while it is down, per code");
        _meter.CreateObservableGauge("licensing.free_pool", FreePool, "{seat}", "Free pool per code, reported by the server of its leader");
    }

    /// <summary>The distributions last read (for the pool view's tests and diagnostics).</summary>
    public IReadOnlyList<Distribution> Snapshot => _snapshot;

    private IEnumerable<Measurement<int>> Rows(Func<ServerShare, int> value)
    {
        foreach (var d in _snapshot)
        {
            if (d[_server.ServerId] is { } row)
            {
                yield return new Measurement<int>(value(row), new KeyValuePair<string, object?>("licensing.code", d.License.Code), new KeyValuePair<string, object?>("licensing.server", row.ServerId));
            }
        }
    }

    private IEnumerable<Measurement<int>> FreePool()
    {
        foreach (var d in _snapshot)
        {
            if (d.LeaderServerId == _server.ServerId) yield return new Measurement<int>(d.FreePool, new KeyValuePair<string, object?>("licensing.code", d.License.Code));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_settings.GaugeInterval);
        do
        {
            try
            {
                var codes = (await _grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes()).Take(_settings.GaugeCodes);
                var distributions = await Task.WhenAll(codes.Select(c => _grains.GetGrain<IPoolGrain>(c).GetDistribution()));
                _snapshot = [.. distributions.OfType<Distribution>()];
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogReadFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not read the distributions for the seat gauges")]
    private partial void LogReadFailed(Exception e);
}
