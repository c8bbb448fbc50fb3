using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>One real license server process shared by a collection of tests; each test uses license codes of its own.</summary>
public sealed class PoolFixture : IAsyncLifetime
{
    /// <summary>Short, so that renewals happen within a test: renew after 2 s.</summary>
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(6);

    public const string ServerId = "alpha";

    public PoolFixture()
    {
        DataPath = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
        Server = new ServerProcess(ServerId, DataPath, settings: new Dictionary<string, string> { ["Licensing__LeaseTtl"] = LeaseTtl.ToString() });
    }

    public string DataPath { get; }

    public ServerProcess Server { get; }

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Server.StartAsync();
        Http = Server.CreateHttpClient();
    }

    private readonly SemaphoreSlim _gatewayLock = new(1, 1);
    private GatewayClient? _gateway;

    /// <summary>One stock Orleans client at the server's gateway, shared by the tests of the collection.</summary>
    public async Task<IClusterClient> OrleansClientAsync()
    {
        await _gatewayLock.WaitAsync();
        try
        {
            return (_gateway ??= await GatewayClient.ConnectAsync(Server)).Client;
        }
        finally
        {
            _gatewayLock.Release();
        }
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null) await _gateway.DisposeAsync();
        Http?.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
        TryDelete(DataPath);
    }

    private readonly SemaphoreSlim _shared = new(1, 1);
    private string? _sharedCode;

    /// <summary>One code without leases (nothing changes it by itself), for tests that must change nothing.</summary>
    public async Task<string> SharedCodeAsync()
    {
        await _shared.WaitAsync();
        try
        {
            if (_sharedCode is not null) return _sharedCode;
            var code = NewCode("SHARED");
            await AddLicenseAsync(code, 5);
            return _sharedCode = code;
        }
        finally
        {
            _shared.Release();
        }
    }

    public static string NewCode(string prefix = "LIC") => $"{prefix}-{Guid.NewGuid():N}"[..20];

    public async Task<JsonObject> AddLicenseAsync(string code, int seats, object? distribution = null)
    {
        var response = await Http.PostAsJsonAsync("api/v1/licenses", new { grant = TestSecurity.CodeGrant(code, seats), distribution });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    public async Task<JsonObject> GetLicenseAsync(string code) =>
        (await Http.GetFromJsonAsync<JsonObject>($"api/v1/licenses/{code}"))!;

    /// <summary>In use at <paramref name="serverId"/> as the server itself counts it.</summary>
    public async Task<int> InUseAsync(string code, string serverId = ServerId)
    {
        var license = await GetLicenseAsync(code);
        return license["servers"]!.AsArray().Single(s => (string)s!["serverId"]! == serverId)!["inUse"]!.GetValue<int>();
    }

    public ServiceProvider ClientServices(params Uri[] servers) =>
        new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = servers.Length > 0 ? servers : [Server.Url];
            o.ApiKey = TestSecurity.ClientKey;
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
        }).Services.BuildServiceProvider();

    public static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}

[CollectionDefinition(Name)]
public sealed class PoolCollection : ICollectionFixture<PoolFixture>
{
    public const string Name = "One license server";
}
