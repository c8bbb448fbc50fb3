using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Orleans.Licensing.Server.Hosting;

/// <summary>
/// Optional TLS between the servers of a pool (silo-to-silo and gateway connections), mutual: a server accepts a peer
/// only if the peer's certificate is issued by the configured CA and carries the expected name
/// (<see cref="ServerSettings.SiloTlsPeerName"/>, default: our own certificate's name), or, without a CA, is the pool's
/// own certificate (one certificate shared by every server). A machine without it cannot join the pool or read its
/// messages, and a certificate the same CA issued for something else does not let it in.
/// </summary>
public static class SiloTls
{
    public static void Configure(ISiloBuilder silo, ServerSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.SiloTlsCertificate)) return;
        var certificate = Load(settings.SiloTlsCertificate, settings.SiloTlsKey, settings.SiloTlsPassword);
        var authority = string.IsNullOrWhiteSpace(settings.SiloTlsCa) ? null : X509CertificateLoader.LoadCertificateFromFile(settings.SiloTlsCa);
        var peerName = string.IsNullOrWhiteSpace(settings.SiloTlsPeerName) ? certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false) : settings.SiloTlsPeerName.Trim();
        silo.UseTls(certificate, o =>
        {
            o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.RemoteCertificateValidation = (remote, _, _) => Trusted(remote, certificate, authority, peerName);
            o.OnAuthenticateAsClient = (_, client) => client.TargetHost = certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false);
        });
    }

    /// <summary>A PFX (with its password) or a PEM certificate with its PEM key (beside it or in <paramref name="keyPath"/>).</summary>
    public static X509Certificate2 Load(string path, string? keyPath, string? password)
    {
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }

        using var pem = X509Certificate2.CreateFromPemFile(path, keyPath);
        // A PEM key is ephemeral on Linux already; re-exporting gives SslStream a certificate it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private static bool Trusted(X509Certificate2 remote, X509Certificate2 own, X509Certificate2? authority, string peerName)
    {
        if (authority is null) return remote.Thumbprint == own.Thumbprint;
        if (!SiloPeerName.Carries(remote, peerName)) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(remote);
    }
}
