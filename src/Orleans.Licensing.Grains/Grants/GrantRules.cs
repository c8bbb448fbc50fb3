using Orleans.Licensing.Grants;

namespace Orleans.Licensing;

/// <summary>What a verified grant must say to apply to this leader: the kind asked for, its license code, its pool.</summary>
internal static class GrantRules
{
    public static Grant For(VerifiedGrant verified, string kind, string code, string poolId)
    {
        var grant = verified.Grant;
        if (grant.Kind != kind) throw new LicensingException(LicensingErrors.GrantMismatch, $"This request needs a '{kind}' grant, not '{grant.Kind}'.");
        if (grant.Code != code) throw new LicensingException(LicensingErrors.GrantMismatch, $"The grant is for '{grant.Code}', not '{code}'.");
        if (grant.PoolId != poolId) throw new LicensingException(LicensingErrors.GrantWrongPool, $"The grant is for pool '{grant.PoolId}'; this is pool '{poolId}'.");
        return grant;
    }
}
