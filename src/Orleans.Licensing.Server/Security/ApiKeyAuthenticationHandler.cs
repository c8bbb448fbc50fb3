using Orleans.Licensing.Grants;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Orleans.Licensing.Server.Api;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// API key authentication: <c>Authorization: Bearer &lt;key&gt;</c>, <c>X-Api-Key: &lt;key&gt;</c>, or HTTP Basic with the
/// key as the password (what a browser can send to the admin pages). Refusals are problem details.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, KeyRing keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string Realm = "Orleans.Licensing";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!TryReadKey(Request, out var key, out var malformed))
        {
            return Task.FromResult(malformed is null ? AuthenticateResult.NoResult() : AuthenticateResult.Fail(malformed));
        }

        if (ApiKeyCache.For(keys).Find(key, TimeProvider.GetUtcNow()) is not { } entry) return Task.FromResult(AuthenticateResult.Fail("Unknown or expired API key."));
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, entry.Id), new(ClaimTypes.Name, entry.Id), new(ClaimTypes.Role, entry.Role) };
        if (!string.IsNullOrEmpty(entry.ClientId)) claims.Add(new Claim(LicensingPolicies.ClientIdClaim, entry.ClientId));
        if (entry.MaxSeats is { } max) claims.Add(new Claim(LicensingPolicies.MaxSeatsClaim, max.ToString(CultureInfo.InvariantCulture)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    /// <summary>The key a request carries; <paramref name="malformed"/> says why a header that is present is unusable.</summary>
    public static bool TryReadKey(HttpRequest request, out string key, out string? malformed)
    {
        key = "";
        malformed = null;
        if (request.Headers.TryGetValue(HeaderName, out var header))
        {
            key = header.Count == 1 ? header[0]!.Trim() : "";
            if (key.Length is > 0 and <= 512) return true;
            malformed = $"{HeaderName} must hold one API key.";
            return false;
        }

        var authorization = request.Headers.Authorization;
        if (authorization.Count == 0) return false;
        if (authorization.Count > 1 || !AuthenticationHeaderValue.TryParse(authorization[0], out var value) || string.IsNullOrWhiteSpace(value.Parameter))
        {
            malformed = "The Authorization header is malformed.";
            return false;
        }

        if (value.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            key = value.Parameter.Trim();
        }
        else if (value.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter));
                var colon = pair.IndexOf(':');
                key = colon < 0 ? "" : pair[(colon + 1)..];
            }
            catch (FormatException)
            {
                key = "";
            }
        }
        else
        {
            malformed = $"Authorization scheme '{value.Scheme}' is not supported: use Bearer or Basic.";
            return false;
        }

        if (key.Length is > 0 and <= 512) return true;
        malformed = "The Authorization header holds no API key.";
        return false;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // Two challenges, two headers: a browser on the admin pages finds Basic and asks for the key.
        Response.Headers.Append("WWW-Authenticate", $"Bearer realm=\"{Realm}\"");
        Response.Headers.Append("WWW-Authenticate", $"Basic realm=\"{Realm}\", charset=\"UTF-8\"");
        var detail = Context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Failure?.Message
            ?? "This endpoint needs a credential: an API key (Authorization: Bearer, X-Api-Key, or Basic) or a bearer token.";
        return Problems.Create(LicensingErrors.Unauthenticated, detail, Context).ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.Create(LicensingErrors.Forbidden, "This credential's role may not do this.", Context).ExecuteAsync(Context);
}
