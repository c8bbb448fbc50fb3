using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// Checks a credential that arrived in a grain call (the public contract, <see cref="Api.LicensingApiGrain"/>) exactly
/// as REST checks one in a header: it runs this server's own authentication (the API key handler with the key ring,
/// or the JWT handler with its validation parameters, chosen as for a request) and authorization policies on a
/// request of its own, so no rule is written twice. Refusals are the REST error codes.
/// </summary>
public sealed class CredentialCheck(IServiceScopeFactory scopes, IAuthorizationService authorization)
{
    /// <summary>Longer than any API key (512) or usual JWT; a bigger credential is refused before any parsing.</summary>
    public const int MaxLength = 16 * 1024;

    /// <summary>The caller's principal when its credential is valid and <paramref name="policy"/> (a <see cref="LicensingPolicies"/> name) admits it.</summary>
    public async Task<ClaimsPrincipal> AuthorizeAsync(string? credential, string policy)
    {
        if (string.IsNullOrWhiteSpace(credential) || credential.Length > MaxLength)
        {
            throw new LicensingException(LicensingErrors.Unauthenticated, "This call needs a credential: an API key or a bearer token of the configured issuer.");
        }

        await using var scope = scopes.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Headers.Authorization = "Bearer " + credential.Trim();
        var result = await context.AuthenticateAsync();
        if (!result.Succeeded || result.Principal is not { } user)
        {
            throw new LicensingException(LicensingErrors.Unauthenticated, result.Failure?.Message ?? "The credential is not a valid API key or bearer token.");
        }

        if (!(await authorization.AuthorizeAsync(user, policy)).Succeeded)
        {
            throw new LicensingException(LicensingErrors.Forbidden, "This credential's role may not do this.");
        }

        return user;
    }
}
