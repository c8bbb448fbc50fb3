namespace Orleans.Licensing.Security;

/// <summary>
/// The production policy: a client reaches <see cref="ILicensingApiGrain"/> and the one system target Orleans' own
/// client needs to start (the cluster manifest), nothing else: not the protocol grains, not Orleans'
/// <c>IManagementGrain</c> (it can deactivate grains), not the silo-control or membership system targets.
/// </summary>
public sealed class PublicContractOnly : IClientCallPolicy
{
    /// <summary>The manifest system target (Orleans <c>Constants.ManifestProviderType</c>; ClientClusterManifestProvider calls it).</summary>
    private static readonly GrainType Manifest = GrainType.Create(GrainTypePrefix.SystemTargetPrefix + "manifest");

    public bool Admits(GrainId target, Type grainInterface) => grainInterface == typeof(ILicensingApiGrain) || target.Type.Equals(Manifest);
}
