using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Hosting;
using Orleans.Licensing.Placement;
using Orleans.Licensing.Security;
using Orleans.Licensing.Usage;

namespace Orleans.Licensing;

public static class LicensingSiloBuilderExtensions
{
    /// <summary>
    /// Adds the license pool to a silo: server placement, the membership watcher, options, and the guard that refuses
    /// Orleans clients' calls to the internal protocol (<see cref="ProtocolGuard"/>; clients use
    /// <see cref="ILicensingApiGrain"/>). The grain storage provider named <see cref="LicensingOptions.StorageName"/> must
    /// be added as well (shared by all silos).
    /// </summary>
    public static ISiloBuilder AddLicensing(this ISiloBuilder builder, Action<LicensingOptions>? configure = null)
    {
        builder.Services.AddOptions<LicensingOptions>().Configure(o => configure?.Invoke(o)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<LicensingOptions>, LicensingOptionsValidator>();
        builder.Services.AddPlacementDirector<ServerPlacementStrategy, ServerPlacementDirector>();
        builder.Services.AddHostedService<MembershipWatcher>();
        builder.Services.AddLicensingUsageLog();
        builder.Services.TryAddSingleton<IClientCallPolicy, PublicContractOnly>();
        builder.AddIncomingGrainCallFilter<ProtocolGuard>();
        // Trusts no key unless the host registers its own verifier (the server: its trust anchor).
        builder.Services.TryAddSingleton<IGrantVerifier>(TrustedKeysVerifier.None);
        return builder;
    }
}
