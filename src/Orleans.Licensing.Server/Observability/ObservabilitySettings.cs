using Orleans.Licensing.Server.Hosting;

namespace Orleans.Licensing.Server.Observability;

/// <summary>
/// The admin surfaces of a server (configuration section "Licensing:Observability", plus <c>Licensing:Dashboard</c>):
/// the pool view <c>/pool/</c>, the usage API <c>/api/v1/usage</c>, the Prometheus endpoint <c>/metrics</c> and the
/// Orleans Dashboard <c>/dashboard</c>.
/// </summary>
public sealed class ObservabilitySettings
{
    public const string Section = ServerSettings.Section + ":Observability";

    /// <summary>Serves the Prometheus scrape endpoint <c>/metrics</c>.</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>OTLP endpoint (e.g. http://collector:4317) for metrics and traces; empty: no OTLP export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>"grpc" (default) or "http/protobuf".</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>The Orleans Dashboard under /dashboard on this silo (<c>Licensing:Dashboard</c>, true by default).</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>How often the seat gauges (allocated / in use / held per code and server, free pool) are read from the leaders.</summary>
    public TimeSpan GaugeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Codes the seat gauges cover at most (the first ones of the catalog): a series per code and server.</summary>
    public int GaugeCodes { get; set; } = 1_000;

    /// <summary>How often the over-issue checker re-reads the usage log (its last hour); zero turns it off.</summary>
    public TimeSpan OverIssueCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    public static ObservabilitySettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<ObservabilitySettings>() ?? new ObservabilitySettings();
        settings.Dashboard = configuration.GetValue(ServerSettings.Section + ":Dashboard", settings.Dashboard);
        return settings;
    }
}
