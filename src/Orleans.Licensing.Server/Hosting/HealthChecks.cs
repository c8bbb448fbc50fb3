using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Storage;

namespace Orleans.Licensing.Server.Hosting;

/// <summary>Ready only when this silo is an active member of the cluster.</summary>
public sealed class ClusterHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"{silo.Name} is active")
            : HealthCheckResult.Unhealthy($"{silo.Name} is {status}"));
    }
}

/// <summary>Ready only when the grain storage answers a read.</summary>
public sealed class StorageHealthCheck(IServiceProvider services) : IHealthCheck
{
    private static readonly GrainId Probe = GrainId.Create("licensing-health", "probe");

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var storage = services.GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
            await storage.ReadStateAsync("probe", Probe, new GrainState<int>()).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy("storage reachable");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy("storage unreachable", e);
        }
    }
}
