using Orleans.Dashboard;
using Orleans.Licensing.Server.Hosting;
using Orleans.Licensing.Usage;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Orleans.Licensing.Server.Observability;

public static class ObservabilitySetup
{
    /// <summary>
    /// Metrics and traces (OpenTelemetry: Prometheus and/or OTLP), the seat gauges, the over-issue checker and the
    /// Orleans Dashboard of this silo. Called from <see cref="SiloConfiguration"/>: the silo's services are the host's.
    /// </summary>
    public static void AddObservability(ISiloBuilder silo, ServerSettings server, IConfiguration configuration)
    {
        var settings = ObservabilitySettings.From(configuration);
        var services = silo.Services;
        services.AddSingleton(settings);
        services.AddSingleton<SeatGauges>();
        services.AddHostedService(sp => sp.GetRequiredService<SeatGauges>());
        services.AddSingleton<UsageQueries>();
        services.AddSingleton<OverIssueChecker>();
        services.AddHostedService(sp => sp.GetRequiredService<OverIssueChecker>());

        var otlp = string.IsNullOrWhiteSpace(settings.OtlpEndpoint) ? null : new Uri(settings.OtlpEndpoint);
        void Otlp(OtlpExporterOptions o)
        {
            o.Endpoint = otlp!;
            o.Protocol = settings.OtlpProtocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        }

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("orleans-licensing", serviceInstanceId: server.ServerId))
            .WithMetrics(m =>
            {
                m.AddMeter(LicensingTelemetry.Name);
                if (settings.Prometheus) m.AddPrometheusExporter();
                if (otlp is not null) m.AddOtlpExporter(Otlp);
            });
        if (otlp is not null)
        {
            telemetry.WithTracing(t => t.AddSource(LicensingTelemetry.Name).AddOtlpExporter(Otlp));
        }

        // Every silo of the pool runs it (it shows its own silo's grains and the cluster).
        if (settings.Dashboard) silo.AddDashboard();
    }
}
