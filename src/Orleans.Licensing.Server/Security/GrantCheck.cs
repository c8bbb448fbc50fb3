using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Server.Security;

/// <summary>Verifies a grant against the vendor keys this server trusts now; a refusal is a problem with a grant error.</summary>
public sealed class GrantCheck(KeyRing keys, TimeProvider clock)
{
    public Grant Verify(string? text, string kind)
    {
        Grant grant;
        try
        {
            grant = GrantCodec.Verify(text, keys.VendorKeys, clock.GetUtcNow());
        }
        catch (GrantException e)
        {
            throw new LicensingException(e.Error, e.Message);
        }

        if (grant.Kind != kind) throw new LicensingException(GrantErrors.Mismatch, $"This request needs a '{kind}' grant, not '{grant.Kind}'.");
        return grant;
    }
}
