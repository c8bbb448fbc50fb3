using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Orleans.Licensing.Grants;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// One server configured as production would be: keys from a keys file (rotated by rewriting it), JWT bearer tokens of
/// an organisation's issuer (a PEM key), HTTPS from a PEM certificate next to plain HTTP, and a tight rate limit.
/// </summary>
public sealed class SecuredServerFixture : IAsyncLifetime
{
    public const string Issuer = "https://login.example.test/";
    public const string Audience = "orleans-licensing";
    public const int PermitsPerSecond = 5;

    public SecuredServerFixture()
    {
        Folder = Path.Combine(Path.GetTempPath(), "licensing-tests", "secured-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        KeysFile = Path.Combine(Folder, "keys.json");
        WriteKeys(FileKey);

        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CertificateThumbprint = certificate.Thumbprint;
        File.WriteAllText(Path.Combine(Folder, "tls.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(Folder, "tls.key"), rsa.ExportPkcs8PrivateKeyPem());

        HttpsPort = ServerProcess.FreePort();
        Server = new ServerProcess("secured", Path.Combine(Folder, "data"), settings: new Dictionary<string, string>
        {
            ["Licensing__Security__KeysFile"] = KeysFile,
            ["Licensing__Security__Jwt__Issuer"] = Issuer,
            ["Licensing__Security__Jwt__Audience"] = Audience,
            ["Licensing__Security__Jwt__SigningKeyPem"] = Issuer_.ExportSubjectPublicKeyInfoPem(),
            ["Licensing__Security__RateLimit__PermitsPerSecond"] = PermitsPerSecond.ToString(),
            ["Licensing__Security__RateLimit__Burst"] = PermitsPerSecond.ToString(),
            ["Kestrel__Endpoints__Https__Url"] = $"https://127.0.0.1:{HttpsPort}",
            ["Kestrel__Endpoints__Https__Certificate__Path"] = Path.Combine(Folder, "tls.crt"),
            ["Kestrel__Endpoints__Https__Certificate__KeyPath"] = Path.Combine(Folder, "tls.key"),
        });

        // Named Kestrel endpoints replace ASPNETCORE_URLS: plain HTTP stays on the port the test harness probes.
        Server.SetEnvironment("Kestrel__Endpoints__Http__Url", Server.Url.ToString().TrimEnd('/'));
    }

    public string Folder { get; }

    public string KeysFile { get; }

    public ServerProcess Server { get; private set; }

    public int HttpsPort { get; }

    public string CertificateThumbprint { get; }

    /// <summary>The key the keys file holds at the start (Reader).</summary>
    public string FileKey { get; } = ApiKeys.New();

    /// <summary>The issuer's signing key (ES256).</summary>
    private ECDsa Issuer_ { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void WriteKeys(params string[] readerKeys)
    {
        var json = JsonSerializer.Serialize(new { ApiKeys = readerKeys.Select((k, i) => new { Id = $"file-reader-{i}", Hash = ApiKeys.Hash(k), Role = "Reader" }) });
        var staging = KeysFile + ".new";
        File.WriteAllText(staging, json);
        File.Move(staging, KeysFile, overwrite: true);   // as a Secret update swaps the file: never half written
    }

    /// <summary>A JWT of the issuer: ES256 over header.payload, as any OpenID provider signs it.</summary>
    /// <param name="type">The header's <c>typ</c>; null leaves it out.</param>
    /// <param name="extra">More payload claims (an ID token's <c>nonce</c>, <c>at_hash</c>).</param>
    public string Token(string role, string? clientId = null, DateTimeOffset? expires = null, ECDsa? signer = null, string issuer = Issuer,
        string audience = Audience, string? type = "JWT", IReadOnlyDictionary<string, object>? extra = null)
    {
        static string Part(object value) => System.Buffers.Text.Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));
        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer, ["aud"] = audience, ["sub"] = "user-" + role, ["roles"] = role,
            ["nbf"] = now.AddMinutes(-5).ToUnixTimeSeconds(), ["exp"] = (expires ?? now.AddMinutes(10)).ToUnixTimeSeconds(),
        };
        if (clientId is not null) claims["client_id"] = clientId;
        foreach (var (name, value) in extra ?? new Dictionary<string, object>()) claims[name] = value;
        var header = type is null ? new Dictionary<string, string> { ["alg"] = "ES256" } : new Dictionary<string, string> { ["alg"] = "ES256", ["typ"] = type };
        var signed = $"{Part(header)}.{Part(claims)}";
        var signature = (signer ?? Issuer_).SignData(System.Text.Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256);
        return $"{signed}.{System.Buffers.Text.Base64Url.EncodeToString(signature)}";
    }

    public Task InitializeAsync() => Server.StartAsync();

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Issuer_.Dispose();
        PoolFixture.TryDelete(Folder);
    }
}

[CollectionDefinition(Name)]
public sealed class SecuredServerCollection : ICollectionFixture<SecuredServerFixture>
{
    public const string Name = "A server with a keys file, JWT, HTTPS and a rate limit";
}
