using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Benchmarks;

/// <summary>The benchmarks' vendor: their silos trust this key; grants name the pool id of the cluster they go to.</summary>
internal static class BenchGrants
{
    private static readonly VendorSigningKey Vendor = VendorSigningKey.Create("bench-vendor");

    public static IGrantVerifier Verifier { get; } = new TrustedKeysVerifier(TrustMode.ConfiguredKeys, [new TrustedVendorKey(Vendor.KeyId, Vendor.PublicKey)]);

    /// <summary>An add license code message with a grant for the pool <paramref name="grains"/> reach.</summary>
    public static async Task<AddLicenseCode> CodeAsync(IGrainFactory grains, string code, string product, int seats, DistributionCriteria? criteria = null)
    {
        var poolId = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetPoolId();
        return new AddLicenseCode(GrantCodec.Sign(Grant.ForLicenseCode(Vendor.KeyId, poolId, code, product, seats, DateTimeOffset.UtcNow), Vendor), criteria);
    }
}
