using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Orleans.Licensing.Usage;

public static class UsageLogExtensions
{
    /// <summary>
    /// The usage recorder the grains call (<see cref="UsageLog"/>), its background writer and the leader-call counter.
    /// Without a store registered (<see cref="IUsageStore"/>, added after this by the storage setup) events reach only
    /// the metrics.
    /// </summary>
    public static IServiceCollection AddLicensingUsageLog(this IServiceCollection services)
    {
        services.TryAddSingleton<IUsageStore, NoUsageStore>();
        services.AddOptions<UsageLogOptions>();
        services.TryAddSingleton<UsageLog>();
        services.TryAddSingleton<IUsageRecorder>(sp => sp.GetRequiredService<UsageLog>());
        services.AddHostedService(sp => sp.GetRequiredService<UsageLog>());
        services.AddSingleton<IOutgoingGrainCallFilter, LeaderCallMetrics>();
        return services;
    }
}

/// <summary>Counts the calls this silo makes to leaders (<see cref="IPoolGrain"/>), by method: <c>licensing.leader.calls</c>.</summary>
internal sealed class LeaderCallMetrics(ILocalSiloDetails silo) : IOutgoingGrainCallFilter
{
    public Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IPoolGrain))
        {
            LicensingTelemetry.LeaderCalls.Add(1, new KeyValuePair<string, object?>("licensing.server", silo.Name), new KeyValuePair<string, object?>("licensing.method", context.InterfaceMethod.Name));
        }

        return context.Invoke();
    }
}
