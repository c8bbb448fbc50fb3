using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// The REST layer's early look at a grant, through the same verifier the leader uses (<see cref="IGrantVerifier"/>):
/// it refuses a bad grant before any grain is called and finds the code to route to. The leader checks it again.
/// </summary>
public sealed class GrantCheck(IGrantVerifier verifier, TimeProvider clock)
{
    public Grant Verify(string? text, string kind)
    {
        var grant = verifier.Verify(text, clock.GetUtcNow()).Grant;
        if (grant.Kind != kind) throw new LicensingException(GrantErrors.Mismatch, $"This request needs a '{kind}' grant, not '{grant.Kind}'.");
        return grant;
    }
}
