using System.Net.Http.Headers;
using System.Text.Json;
using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// The benchmark authenticates like real clients: a vendor key signs the codes, an admin key adds them, and client i
/// holds its own client key covering exactly "client-i" (so each client has its own rate limit, as in production). The
/// servers read the keys from a keys file, as a mounted Kubernetes Secret would give them.
/// </summary>
internal sealed class BenchCredentials : IDisposable
{
    public const int PerClientKeys = 1024;

    private readonly string[] _clientKeys = [.. Enumerable.Range(0, PerClientKeys).Select(_ => ApiKeys.New())];
    private readonly string _sharedClientKey = ApiKeys.New();

    public BenchCredentials()
    {
        KeysFile = Path.Combine(Path.GetTempPath(), $"bench-keys-{Guid.NewGuid():N}.json");
        var apiKeys = _clientKeys.Select((k, i) => new { Id = $"client-{i}", Hash = ApiKeys.Hash(k), Role = "Client", ClientId = $"client-{i}" })
            .Append(new { Id = "clients", Hash = ApiKeys.Hash(_sharedClientKey), Role = "Client", ClientId = "client-*" })
            .Append(new { Id = "admin", Hash = ApiKeys.Hash(AdminKey), Role = "Admin", ClientId = (string)null! });
        File.WriteAllText(KeysFile, JsonSerializer.Serialize(new { ApiKeys = apiKeys, VendorKeys = new[] { new { Id = Vendor.KeyId, Vendor.PublicKey } } }));
    }

    public VendorSigningKey Vendor { get; } = VendorSigningKey.Create("bench-vendor");

    public string AdminKey { get; } = ApiKeys.New();

    public string KeysFile { get; }

    public AuthenticationHeaderValue Admin => new("Bearer", AdminKey);

    public AuthenticationHeaderValue Client(int client) => new("Bearer", client < PerClientKeys ? _clientKeys[client] : _sharedClientKey);

    /// <summary>The pool id the benchmark's servers are given (Licensing:PoolId), so that grants can name it before they run.</summary>
    public const string PoolId = "bench-pool";

    public string CodeGrant(string code, int seats) => GrantCodec.Sign(Grant.ForLicenseCode(Vendor.KeyId, PoolId, code, "bench", seats, DateTimeOffset.UtcNow), Vendor);

    public void Dispose()
    {
        Vendor.Dispose();
        File.Delete(KeysFile);
    }
}
