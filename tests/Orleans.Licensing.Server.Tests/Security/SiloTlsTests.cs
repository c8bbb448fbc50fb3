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

    /// <summary>
    /// With a CA, a peer needs a certificate of that CA with the expected name (Licensing:SiloTlsPeerName): two servers
    /// with certificates a.pool.test and b.pool.test form a pool; a third with a certificate of the same CA for
    /// intruder.test never joins.
    /// </summary>
    [Fact]
    public async Task A_certificate_of_the_pools_ca_with_another_name_does_not_join()
    {
        var folder = Path.Combine(Path.GetTempPath(), "licensing-tests", "tls-ca-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=pool-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(folder, "ca.crt"), ca.ExportCertificatePem());

        Dictionary<string, string> Issue(string name)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(name);
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
            using var certificate = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(8));
            File.WriteAllText(Path.Combine(folder, name + ".crt"), certificate.ExportCertificatePem());
            File.WriteAllText(Path.Combine(folder, name + ".key"), key.ExportPkcs8PrivateKeyPem());
            return new Dictionary<string, string>
            {
                ["Licensing__SiloTlsCertificate"] = Path.Combine(folder, name + ".crt"),
                ["Licensing__SiloTlsKey"] = Path.Combine(folder, name + ".key"),
                ["Licensing__SiloTlsCa"] = Path.Combine(folder, "ca.crt"),
                ["Licensing__SiloTlsPeerName"] = "*.pool.test",
            };
        }

        var data = Path.Combine(folder, "data");
        await using var first = new ServerProcess("tls-a", data, settings: Issue("a.pool.test"));
        await using var second = new ServerProcess("tls-b", data, first.SiloPort, Issue("b.pool.test"));
        await using var intruder = new ServerProcess("tls-x", data, first.SiloPort, Issue("intruder.test"));
        try
        {
            await first.StartAsync();
            await second.StartAsync();
            using var http = first.CreateHttpClient();
            async Task<string> ActiveAsync() => string.Join(",", (await http.SendAsync(HttpMethod.Get, "api/v1/servers")).Body!.AsArray()
                .Where(s => (string?)s!["status"] == "Active").Select(s => (string)s!["serverId"]!).Order(StringComparer.Ordinal));
            await Until.TrueAsync(async () => await ActiveAsync() == "tls-a,tls-b", TimeSpan.FromSeconds(30), "both pool servers to be active");

            await intruder.StartAsync(waitUntilReady: false);
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (DateTime.UtcNow < deadline)
            {
                Assert.Equal("tls-a,tls-b", await ActiveAsync());
                await Task.Delay(500);
            }

            using var atIntruder = intruder.CreateHttpClient(timeout: TimeSpan.FromSeconds(3));
            var ready = intruder.HasExited ? null : await TryGetAsync(atIntruder, "readyz");
            Assert.NotEqual(HttpStatusCode.OK, ready);
        }
        finally
        {
            await intruder.DisposeAsync();
            await second.DisposeAsync();
            await first.DisposeAsync();
            PoolFixture.TryDelete(folder);
        }
    }

    private static async Task<HttpStatusCode?> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            return (await http.GetAsync(path)).StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }
}
