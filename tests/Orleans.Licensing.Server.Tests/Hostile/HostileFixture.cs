using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Hostile;

/// <summary>
/// One real server for the whole hostile-input suite, seeded through the API with license codes and live leases of
/// several clients. Leases live 10 minutes, so nothing changes by itself while the suite runs: any difference from
/// <see cref="Baseline"/> is caused by a hostile request.
/// </summary>
public sealed class HostileFixture : IAsyncLifetime
{
    public const string ServerId = "alpha";

    /// <summary>10 seats; leases of three clients, one of them a tenant-b client.</summary>
    public const string CodeA = "HOSTILE-A";

    /// <summary>4 seats and 1 added by an allocations grant; one lease of ws-1 (the same client as on A).</summary>
    public const string CodeB = "HOSTILE-B";

    /// <summary>3 seats, all leased: a checkout there is denied.</summary>
    public const string CodeC = "HOSTILE-C";

    public static readonly string[] Codes = [CodeA, CodeB, CodeC];

    /// <summary>The seeded leases: id, code, client, count. Ids are ours (a checkout may name its lease id).</summary>
    public static readonly SeededLease[] Leases =
    [
        new("hostile-a1", CodeA, "ws-1", 2),
        new("hostile-a2", CodeA, "tenant-b-7", 1),
        new("hostile-a3", CodeA, "ws-2", 3),
        new("hostile-b1", CodeB, "ws-1", 1),
        new("hostile-c1", CodeC, "ws-3", 3),
    ];

    /// <summary>Checked out and checked in again while seeding: a lease that is gone.</summary>
    public const string GoneLease = "hostile-a-gone";

    private readonly Dictionary<Cred, HttpClient> _clients = [];

    public HostileFixture()
    {
        DataPath = Path.Combine(Path.GetTempPath(), "licensing-tests", "hostile-" + Guid.NewGuid().ToString("N"));
        Server = new ServerProcess(ServerId, DataPath, settings: new Dictionary<string, string>
        {
            ["Licensing__LeaseTtl"] = "00:10:00",
            // No timer moves idle seats back to the free pool: the table changes only by requests.
            ["Licensing__RedistributeInterval"] = "00:00:00",
        });
    }

    public string DataPath { get; }

    public ServerProcess Server { get; }

    /// <summary>The admin GET of every live lease of a code is on this server (issue 10); else heartbeats stand in.</summary>
    public bool HasLeaseList { get; private set; }

    /// <summary>The pool's table and live leases as seeded.</summary>
    public string Baseline { get; private set; } = "";

    public HttpClient Http(Cred cred)
    {
        lock (_clients)
        {
            if (!_clients.TryGetValue(cred, out var http)) {
                _clients[cred] = http = HostileSecurity.CreateHttpClient(Server, cred);
                http.Timeout = TimeSpan.FromSeconds(10);
            }
            return http;
        }
    }

    public async Task InitializeAsync()
    {
        await Server.StartAsync();
        await using (var services = ClientServices())
        {
            var sdk = services.GetRequiredService<LicensingClient>();
            foreach (var code in Codes) await sdk.AddLicenseAsync(new AddLicenseRequest(HostileGrants.SeededCodes.Value[code]));
            await sdk.AddAllocationsAsync(CodeB, HostileGrants.SeededAllocations.Value);
        }

        foreach (var lease in Leases) await CheckoutAsync(lease);
        await CheckoutAsync(new SeededLease(GoneLease, CodeA, "ws-1", 1));
        var checkin = await Http(Cred.Admin).DeleteAsync($"api/v1/licenses/{CodeA}/leases/{GoneLease}?clientId=ws-1");
        Assert.Equal(HttpStatusCode.NoContent, checkin.StatusCode);

        HasLeaseList = (await Http(Cred.Admin).GetAsync($"api/v1/licenses/{CodeA}/leases")).StatusCode == HttpStatusCode.OK;
        Baseline = await SnapshotAsync();
    }

    private async Task CheckoutAsync(SeededLease lease)
    {
        var response = await Http(Cred.Admin).PostAsJsonAsync($"api/v1/licenses/{lease.Code}/leases", new { clientId = lease.ClientId, count = lease.Count, leaseId = lease.LeaseId });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"seeding {lease}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>
    /// Everything a hostile request must not change, read through the API: the list of codes, each code's table
    /// (seats, free pool, version, leader, every server's allocated/inUse/held), and every live lease (the admin lease
    /// list with expiry times, or else a heartbeat of each seeded lease by its own client: id, client, count, server).
    /// </summary>
    public async Task<string> SnapshotAsync()
    {
        _last = await ReadSnapshotAsync();
        return _last;
    }

    private string? _last;

    /// <summary>The snapshot taken after the previous case (the state it left), or a new one.</summary>
    public async Task<string> LastSnapshotAsync() => _last ?? await SnapshotAsync();

    public string ServerLogTail() => Server.Log.Length > 8000 ? Server.Log[^8000..] : Server.Log;

    private async Task<string> ReadSnapshotAsync()
    {
        var reader = Http(Cred.Admin);
        var text = new StringBuilder();
        var all = JsonNode.Parse(await GetOkAsync(reader, "api/v1/licenses"))!.AsArray();
        text.AppendLine("codes: " + string.Join(",", all.Select(l => (string)l!["code"]!).Order(StringComparer.Ordinal)));
        foreach (var code in Codes)
        {
            text.AppendLine(await GetOkAsync(reader, $"api/v1/licenses/{code}"));
            if (HasLeaseList) text.AppendLine(await GetOkAsync(reader, $"api/v1/licenses/{code}/leases"));
        }

        if (!HasLeaseList)
        {
            foreach (var lease in Leases)
            {
                var response = await Http(Cred.Admin).PutAsJsonAsync($"api/v1/licenses/{lease.Code}/leases/{lease.LeaseId}", new { clientId = lease.ClientId, count = lease.Count, serverId = ServerId });
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    text.AppendLine($"{lease.LeaseId}: {(int)response.StatusCode} {body}");
                    continue;
                }

                var json = JsonNode.Parse(body)!;
                text.AppendLine($"{json["leaseId"]} {json["code"]} {json["clientId"]} {json["count"]} {json["serverId"]}");
            }

            // The gone lease stays gone.
            var gone = await Http(Cred.Admin).PutAsJsonAsync($"api/v1/licenses/{CodeA}/leases/{GoneLease}", new { clientId = "ws-1", count = 1, serverId = ServerId });
            text.AppendLine($"{GoneLease}: {(int)gone.StatusCode}");
        }

        return text.ToString();
    }

    private static async Task<string> GetOkAsync(HttpClient http, string path)
    {
        var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    private ServiceProvider ClientServices() =>
        new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = [Server.Url];
            o.ApiKey = HostileSecurity.Key(Cred.Admin);
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
        }).Services.BuildServiceProvider();

    public async Task DisposeAsync()
    {
        foreach (var http in _clients.Values) http.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "licensing-tests", "hostile-server.log"), Server.Log);
        PoolFixture.TryDelete(DataPath);
    }
}

public sealed record SeededLease(string LeaseId, string Code, string ClientId, int Count);

[CollectionDefinition(Name)]
public sealed class HostileCollection : ICollectionFixture<HostileFixture>
{
    public const string Name = "Hostile input: one seeded license server";
}
