using System.Net.Http.Headers;
using Orleans.Licensing.Client;
using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

public enum TestRole
{
    None,
    Admin,
    Reader,

    /// <summary>A client key covering every client id.</summary>
    Client,

    /// <summary>A client key covering only client ids starting with "tenant-b-".</summary>
    TenantB,
}

/// <summary>
/// The credentials and vendor keys of the test servers: one vendor key they trust, one they trusted until yesterday, one
/// they never heard of; an API key per role. Server processes get them through environment variables, as an operator
/// would configure them.
/// </summary>
public static class TestSecurity
{
    public static readonly VendorSigningKey Vendor = VendorSigningKey.Create("test-vendor");
    public static readonly VendorSigningKey RetiredVendor = VendorSigningKey.Create("retired-vendor");
    public static readonly VendorSigningKey UnknownVendor = VendorSigningKey.Create("unknown-vendor");

    /// <summary>The pool id every test server is given at its first start (Licensing:PoolId): grants name it.</summary>
    public const string PoolId = "test-pool";

    public static readonly string AdminKey = ApiKeys.New();
    public static readonly string ReaderKey = ApiKeys.New();
    public static readonly string ClientKey = ApiKeys.New();
    public static readonly string TenantBKey = ApiKeys.New();
    public const string TenantBPrefix = "tenant-b-";

    /// <summary>A client key with <c>MaxSeats</c> = <see cref="CappedSeats"/>, covering <see cref="CappedPrefix"/>*.</summary>
    public static readonly string CappedKey = ApiKeys.New();
    public const string CappedPrefix = "capped-";
    public const int CappedSeats = 3;

    public static string? KeyOf(TestRole role) => role switch
    {
        TestRole.Admin => AdminKey,
        TestRole.Reader => ReaderKey,
        TestRole.Client => ClientKey,
        TestRole.TenantB => TenantBKey,
        _ => null,
    };

    /// <summary>The environment that makes a server trust these keys.</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = BuildEnvironment();

    private static Dictionary<string, string> BuildEnvironment()
    {
        var env = new Dictionary<string, string>();
        var keys = new (string Id, string Key, string Role, string? Client)[]
        {
            ("test-admin", AdminKey, "Admin", null), ("test-reader", ReaderKey, "Reader", null),
            ("test-client", ClientKey, "Client", "*"), ("test-tenant-b", TenantBKey, "Client", TenantBPrefix + "*"),
        };
        for (var i = 0; i < keys.Length; i++)
        {
            var prefix = $"Licensing__Security__ApiKeys__{i}__";
            env[prefix + "Id"] = keys[i].Id;
            env[prefix + "Hash"] = ApiKeys.Hash(keys[i].Key);
            env[prefix + "Role"] = keys[i].Role;
            if (keys[i].Client is { } client) env[prefix + "ClientId"] = client;
        }

        var capped = $"Licensing__Security__ApiKeys__{keys.Length}__";
        env[capped + "Id"] = "test-capped";
        env[capped + "Hash"] = ApiKeys.Hash(CappedKey);
        env[capped + "Role"] = "Client";
        env[capped + "ClientId"] = CappedPrefix + "*";
        env[capped + "MaxSeats"] = CappedSeats.ToString(System.Globalization.CultureInfo.InvariantCulture);

        env["Licensing__PoolId"] = PoolId;
        env["Licensing__Security__VendorKeys__0__Id"] = Vendor.KeyId;
        env["Licensing__Security__VendorKeys__0__PublicKey"] = Vendor.PublicKey;
        env["Licensing__Security__VendorKeys__1__Id"] = RetiredVendor.KeyId;
        env["Licensing__Security__VendorKeys__1__PublicKey"] = RetiredVendor.PublicKey;
        env["Licensing__Security__VendorKeys__1__NotAfter"] = DateTimeOffset.UtcNow.AddDays(-1).ToString("O");
        return env;
    }

    /// <summary>A file holding the admin key, for the CLI's --key-file (a secret is never a command-line argument).</summary>
    public static string AdminKeyFile => AdminKeyFileLazy.Value;

    private static readonly Lazy<string> AdminKeyFileLazy = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), "licensing-tests", $"admin-{Guid.NewGuid():N}.key");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, AdminKey + "\n");
        return path;
    });

    /// <summary>The same keys as a keys file (<c>Licensing:Security:KeysFile</c>, e.g. a mounted Secret's keys.json).</summary>
    public static string KeysFileJson()
    {
        var env = Environment;
        object Entry(int i) => new
        {
            Id = env[$"Licensing__Security__ApiKeys__{i}__Id"],
            Hash = env[$"Licensing__Security__ApiKeys__{i}__Hash"],
            Role = env[$"Licensing__Security__ApiKeys__{i}__Role"],
            ClientId = env.GetValueOrDefault($"Licensing__Security__ApiKeys__{i}__ClientId"),
        };
        return System.Text.Json.JsonSerializer.Serialize(new
        {
            ApiKeys = Enumerable.Range(0, 4).Select(Entry),
            VendorKeys = new[] { new { Id = Vendor.KeyId, Vendor.PublicKey } },
        });
    }

    public static void Authorize(HttpClient http, TestRole role)
    {
        http.DefaultRequestHeaders.Authorization = KeyOf(role) is { } key ? new AuthenticationHeaderValue("Bearer", key) : null;
    }

    public static string CodeGrant(string code, int seats, string product = "Test product", DateTimeOffset? expiresAt = null, VendorSigningKey? key = null)
    {
        key ??= Vendor;
        return GrantCodec.Sign(Grant.ForLicenseCode(key.KeyId, PoolId, code, product, seats, DateTimeOffset.UtcNow, expiresAt), key);
    }

    public static string AllocationsGrant(string code, int count, DateTimeOffset? expiresAt = null, VendorSigningKey? key = null)
    {
        key ??= Vendor;
        var now = DateTimeOffset.UtcNow;
        return GrantCodec.Sign(Grant.ForAllocations(key.KeyId, PoolId, code, count, now, expiresAt ?? now.AddDays(1)), key);
    }

    /// <summary>A grant of any payload, even one a vendor's tool would refuse to sign: what a hostile or buggy signer sends.</summary>
    public static string SignPayload(string json, VendorSigningKey? key = null)
    {
        key ??= Vendor;
        var signed = $"{GrantCodec.Prefix}.{System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(json))}";
        return $"{signed}.{System.Buffers.Text.Base64Url.EncodeToString(key.Sign(System.Text.Encoding.ASCII.GetBytes(signed)))}";
    }

    /// <summary>The SDK's request to add a license code, with its signed grant.</summary>
    public static AddLicenseRequest License(string code, int seats, string product = "Test product", DistributionRequest? distribution = null) =>
        new(CodeGrant(code, seats, product), distribution);
}
