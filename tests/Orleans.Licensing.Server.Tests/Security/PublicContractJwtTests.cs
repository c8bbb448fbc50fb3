using System.Security.Cryptography;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// The public contract on a server configured as production would be: JWTs of the organisation's issuer (and API keys)
/// are checked as REST checks them (roles, client ids, expiry, signer, issuer).
/// </summary>
[Collection(SecuredServerCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class PublicContractJwtTests(SecuredServerFixture server)
{
    [Fact]
    public async Task Tokens_of_the_issuer_get_their_roles_and_client_ids_and_nothing_else()
    {
        await using var gateway = await GatewayClient.ConnectAsync(server.Server);
        var api = gateway.Client.GetGrain<ILicensingApiGrain>(0);
        var code = PoolFixture.NewCode("JWT");

        async Task<string> Outcome(Func<Task> call)
        {
            try
            {
                await call();
                return "through";
            }
            catch (LicensingException e)
            {
                return e.Error;
            }
        }

        Assert.Equal(LicensingErrors.Forbidden, await Outcome(() => api.AddLicenseCode(server.Token("Reader"), TestSecurity.CodeGrant(code, 3), null)));
        var added = await api.AddLicenseCode(server.Token("Admin"), TestSecurity.CodeGrant(code, 3), null);
        Assert.Equal(3, added.Total);
        Assert.Equal(3, (await api.GetLicense(server.Token("Reader"), code)).Total);
        Assert.Equal(3, (await api.GetLicense(TestSecurity.ReaderKey, code)).Total);

        var client = server.Token("Client", clientId: "jwt-ws-1");
        var lease = await api.Checkout(client, code, "jwt-ws-1", 1, null);
        Assert.Equal(1, lease.Count);
        Assert.Equal(LicensingErrors.ForbiddenClient, await Outcome(() => api.Checkout(client, code, "jwt-ws-2", 1, null)));
        Assert.Equal(LicensingErrors.Forbidden, await Outcome(() => api.Checkout(TestSecurity.ReaderKey, code, "jwt-ws-1", 1, null)));

        using var otherIssuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        foreach (var refused in new[]
                 {
                     server.Token("Admin", expires: DateTimeOffset.UtcNow.AddMinutes(-10)),
                     server.Token("Admin", signer: otherIssuerKey),
                     server.Token("Admin", issuer: "https://evil.example.test/"),
                 })
        {
            Assert.Equal(LicensingErrors.Unauthenticated, await Outcome(() => api.GetLicense(refused, code)));
        }

        await api.Checkin(client, code, lease.LeaseId, "jwt-ws-1", null);
        Assert.Equal(0, (await api.GetLicense(server.Token("Reader"), code))[lease.ServerId]!.InUse);
    }
}
