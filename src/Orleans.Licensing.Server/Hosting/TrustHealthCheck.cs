using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Server.Hosting;

/// <summary>Always healthy: says on /readyz which vendor keys sign seats here ("trust: configured keys", "vendor keys", "trial keys").</summary>
public sealed class TrustHealthCheck(IGrantVerifier verifier) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy("trust: " + verifier.Mode.Describe()));

    /// <summary>/readyz as text: the status, then one line per check ("trust: vendor keys").</summary>
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var lines = report.Entries.Select(e => e.Key == "trust" ? e.Value.Description : $"{e.Key}: {e.Value.Status} ({e.Value.Description})");
        return context.Response.WriteAsync(string.Join('\n', lines.Prepend(report.Status.ToString())) + "\n");
    }
}
