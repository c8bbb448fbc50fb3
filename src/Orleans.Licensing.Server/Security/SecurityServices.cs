using Orleans.Licensing.Grants;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.IdentityModel.Tokens;
using Orleans.Licensing.Server.Api;

namespace Orleans.Licensing.Server.Security;

/// <summary>Authentication (API keys, JWT bearer), the role policies and the per-credential rate limit.</summary>
public static class SecurityServices
{
    public const string RateLimitPolicy = "per-credential";
    private const string SelectorScheme = "licensing";

    public static WebApplicationBuilder AddLicensingSecurity(this WebApplicationBuilder builder)
    {
        var options = KeyRing.Configured(builder.Configuration);
        options.Validate();
        builder.Services.AddSingleton<KeyRing>();
        builder.Services.AddSingleton<LocalKeys>();

        var authentication = builder.Services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "API key or JWT", o => o.ForwardDefaultSelector = context =>
                options.Jwt.Enabled && LooksLikeJwt(context.Request) ? JwtBearerDefaults.AuthenticationScheme : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        if (options.Jwt.Enabled) authentication.AddJwtBearer(o => ConfigureJwt(o, options.Jwt));

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(LicensingPolicies.Admin, p => p.RequireRole(LicensingRoles.Admin))
            .AddPolicy(LicensingPolicies.Reader, p => p.RequireRole(LicensingRoles.Admin, LicensingRoles.Reader))
            .AddPolicy(LicensingPolicies.Tables, p => p.RequireRole(LicensingRoles.Admin, LicensingRoles.Reader, LicensingRoles.Client))
            .AddPolicy(LicensingPolicies.Client, p => p.RequireRole(LicensingRoles.Admin, LicensingRoles.Client))
            // An endpoint that names no policy still needs a credential: nothing is open by omission.
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

        builder.Services.AddRateLimiter(o =>
        {
            o.AddPolicy(RateLimitPolicy, context => RateLimitPartition.GetTokenBucketLimiter(PartitionKey(context), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(1, options.RateLimit.Burst),
                TokensPerPeriod = Math.Max(1, options.RateLimit.PermitsPerSecond),
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
            o.OnRejected = (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                return new ValueTask(Problems.Create(LicensingErrors.RateLimited,
                    $"More than {options.RateLimit.PermitsPerSecond} requests per second with this credential: slow down.", context.HttpContext)
                    .ExecuteAsync(context.HttpContext));
            };
        });
        return builder;
    }

    public static WebApplication UseLicensingSecurity(this WebApplication app)
    {
        app.Services.GetRequiredService<LocalKeys>().Ensure();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>A client credential may act only for the client ids it covers; an admin for any.</summary>
    public static void EnsureCovers(this ClaimsPrincipal user, string clientId)
    {
        if (user.IsInRole(LicensingRoles.Admin)) return;
        if (user.FindAll(LicensingPolicies.ClientIdClaim).Any(c => ApiKeys.Covers(c.Value, clientId))) return;
        throw new LicensingException(LicensingErrors.ForbiddenClient, $"This credential does not hold leases for client '{clientId}'.");
    }

    /// <summary>
    /// Who made an admin change, for the audit rows of the usage log: the API key entry's id (<c>local-admin</c> for the
    /// CLI's local key) or <c>jwt:&lt;sub&gt;</c> for a bearer token.
    /// </summary>
    public static string Actor(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "unknown";

    /// <summary>The seat cap of a client credential with <c>MaxSeats</c>; null for an admin or a key without one.</summary>
    public static SeatCap? SeatCap(this ClaimsPrincipal user)
    {
        if (user.IsInRole(LicensingRoles.Admin) || user.FindFirstValue(LicensingPolicies.MaxSeatsClaim) is not { } value) return null;
        var max = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        return new SeatCap(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "", [.. user.FindAll(LicensingPolicies.ClientIdClaim).Select(c => c.Value)], max);
    }

    private static string PartitionKey(HttpContext context) =>
        context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } id ? "credential:" + id : "address:" + context.Connection.RemoteIpAddress;

    private static bool LooksLikeJwt(HttpRequest request) =>
        request.Headers.Authorization.ToString() is var header
        && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
        && header.AsSpan(7).Count('.') == 2;

    private static void ConfigureJwt(JwtBearerOptions o, JwtSettings jwt)
    {
        o.MapInboundClaims = false;
        o.Authority = string.IsNullOrWhiteSpace(jwt.Authority) ? null : jwt.Authority;
        o.RequireHttpsMetadata = o.Authority?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ?? true;
        // Audience and issuer are required settings (SecurityOptions.Validate): a token of the organisation's issuer for
        // another application, or of another issuer, is refused. Only access tokens (RFC 9068 "at+jwt", or "JWT" as
        // most issuers type theirs) are: an ID token (what a login hands a web app) is no credential here.
        o.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateAudience = true,
            ValidAudience = jwt.Audience,
            ValidateIssuer = true,
            ValidIssuer = jwt.Issuer,
            ValidTypes = JwtSettings.AccessTokenTypes,
            RoleClaimType = jwt.RoleClaim,
            NameClaimType = "sub",
            ClockSkew = TimeSpan.FromSeconds(30),
        };
        if (!string.IsNullOrWhiteSpace(jwt.SigningKeyPem)) o.TokenValidationParameters.IssuerSigningKey = SigningKey(jwt.SigningKeyPem);

        // Refusals look like every other one (problem details), whichever scheme refused.
        o.ForwardChallenge = ApiKeyAuthenticationHandler.SchemeName;
        o.ForwardForbid = ApiKeyAuthenticationHandler.SchemeName;
        o.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                if (context.Principal?.FindFirst(c => JwtSettings.IdTokenClaims.Contains(c.Type)) is { } marker)
                {
                    context.Fail($"An ID token (it carries '{marker.Type}') is not an access token for this API.");
                    return Task.CompletedTask;
                }

                if (context.Principal?.Identity is ClaimsIdentity identity)
                {
                    foreach (var claim in identity.FindAll(jwt.ClientIdClaim).ToList()) identity.AddClaim(new Claim(LicensingPolicies.ClientIdClaim, claim.Value));
                    if (identity.FindFirst("sub") is { } sub) identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, "jwt:" + sub.Value));
                }

                return Task.CompletedTask;
            },
        };
    }

    /// <summary>A PEM public key of the issuer: EC (ES256…) or RSA (RS256…).</summary>
    private static SecurityKey SigningKey(string pem)
    {
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ec.Dispose();
        }

        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return new RsaSecurityKey(rsa);
    }
}
