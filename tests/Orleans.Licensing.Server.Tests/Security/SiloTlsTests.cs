using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// Two server processes whose silos talk over mutual TLS (Licensing:SiloTlsCertificate, one certificate for the pool)
/// form one pool: the second serves a code whose leader is the first, borrowing through it.
/// </summary>
[Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class SiloTlsTests
{
    [Fact, Trait("Claim", "1")]
    public async Task Two_servers_form_a_pool_over_tls_and_borrow_through_each_other()
    {
        var folder = Path.Combine(Path.GetTempPath(), "licensing-tests", "tls-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        using (var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=orleans-licensing-pool", ec, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("orleans-licensing-pool");
            request.CertificateExtensions.Add(san.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            File.WriteAllText(Path.Combine(folder, "pool.crt"), certificate.ExportCertificatePem());
            File.WriteAllText(Path.Combine(folder, "pool.key"), ec.ExportPkcs8PrivateKeyPem());
        }

        var tls = new Dictionary<string, string>
        {
            ["Licensing__SiloTlsCertificate"] = Path.Combine(folder, "pool.crt"),
            ["Licensing__SiloTlsKey"] = Path.Combine(folder, "pool.key"),
        };
        var data = Path.Combine(folder, "data");
        await using var first = new ServerProcess("tls-a", data, settings: tls);
        await using var second = new ServerProcess("tls-b", data, first.SiloPort, tls);
        try
        {
            await first.StartAsync();
            await second.StartAsync();
            using var http = first.CreateHttpClient();
            await Until.TrueAsync(async () =>
                (await http.SendAsync(HttpMethod.Get, "api/v1/servers")).Body!.AsArray().Count(s => (string?)s!["status"] == "Active") == 2,
                TimeSpan.FromSeconds(30), "both servers to be active");

            var code = PoolFixture.NewCode("TLS");
            var added = await http.SendAsync(HttpMethod.Post, "api/v1/licenses",
                "{\"grant\":\"" + TestSecurity.CodeGrant(code, 4) + "\",\"distribution\":{\"shares\":{\"tls-a\":4}}}");
            Assert.Equal(HttpStatusCode.Created, added.Status);
            Assert.Equal("tls-a", (string?)added.Body!["leader"]);

            // tls-b has nothing: its checkout borrows from the leader on tls-a, silo to silo, over TLS.
            using var atSecond = second.CreateHttpClient(TestRole.Client);
            var lease = await atSecond.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"tls-client","count":1}""");
            Assert.Equal(HttpStatusCode.Created, lease.Status);
            Assert.Equal("tls-b", (string?)lease.Body!["serverId"]);
            var license = (await http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}")).Body;
            Assert.Equal(1, license.Share("tls-b").Int("inUse"));
            Assert.Equal(4, license.Share("tls-a").Int("allocated") + license.Share("tls-b").Int("allocated") + license.Int("freePool"));
        }
        finally
        {
            await second.DisposeAsync();
            await first.DisposeAsync();
            PoolFixture.TryDelete(folder);
        }
    }
}
