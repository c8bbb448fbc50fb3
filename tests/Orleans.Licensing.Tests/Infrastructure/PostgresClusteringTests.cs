using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// The production wiring (<see cref="PostgresLicensingExtensions.UseLicensingPostgres"/>) with real silo hosts on
/// loopback TCP: the in-process test cluster always uses its own in-memory membership and transport, so this is
/// where our membership queries in sql/ run under Orleans' membership protocol.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class PostgresClusteringTests : IAsyncLifetime
{
    private readonly string _clusterId = $"test-{Guid.NewGuid():N}";
    private readonly List<IHost> _hosts = [];

    [PostgresFact]
    public async Task Servers_and_a_client_meet_through_the_membership_table_and_a_stopped_server_is_dead_there_and_down_at_the_leader()
    {
        var a = await StartSiloAsync("server-a");
        var b = await StartSiloAsync("server-b");
        await WaitAsync.UntilAsync(() => Task.FromResult(ActiveCount(a) == 2 && ActiveCount(b) == 2), "both silos active on both");
        Assert.Equal(["server-a=Active", "server-b=Active"], await MembershipRowsAsync());

        var client = await StartClientAsync();
        var grains = client.Services.GetRequiredService<IClusterClient>();
        var code = PoolCluster.NewCode();
        await grains.GetServerGrain("server-a", code).AddLicenseCode(new AddLicenseCode(TestGrants.Code(await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetPoolId(), code, 4)));
        Assert.True((await grains.GetServerGrain("server-b", code).Checkout(new CheckoutRequest("lease", "client", 1))).Granted);

        await b.StopAsync(new CancellationToken(canceled: true));
        await WaitAsync.UntilAsync(async () => (await MembershipRowsAsync()).Contains("server-b=Dead"), "server-b dead in the membership table");
        await WaitAsync.UntilAsync(async () =>
        {
            await grains.GetGrain<IPoolGrain>(code).RefreshMembership();
            return (await grains.GetGrain<IPoolGrain>(code).GetDistribution())?["server-b"]?.Status == ServerStatus.Down;
        }, "the leader sees server-b down", TimeSpan.FromSeconds(60));
        Assert.Contains("server-a=Active", await MembershipRowsAsync());
    }

    private static int ActiveCount(IHost silo) =>
        silo.Services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);

    private async Task<IHost> StartSiloAsync(string name)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            silo.UseLicensingPostgres(TestStorage.PostgresConnectionString!);
            silo.Services.AddSingleton<IGrantVerifier>(TestGrants.Verifier);
            silo.AddLicensing(o => o.RedistributeInterval = TimeSpan.Zero);
            TestClientAdmitted.Register(silo);
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (_clusterId, _clusterId));
            silo.Configure<SiloOptions>(o => o.SiloName = name);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.NumMissedProbesLimit = 1;
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumVotesForDeathDeclaration = 1;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
            });
            silo.ConfigureEndpoints(IPAddress.Loopback, FreePort(), FreePort());
        });
        return await StartAsync(builder.Build());
    }

    private async Task<IHost> StartClientAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client
            .UseLicensingPostgresClustering(TestStorage.PostgresConnectionString!)
            // A call that went out through the stopped server's gateway fails in 5 s and is asked again.
            .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5))
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (_clusterId, _clusterId)));
        return await StartAsync(builder.Build());
    }

    private async Task<IHost> StartAsync(IHost host)
    {
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    private async Task<List<string>> MembershipRowsAsync()
    {
        await using var connection = new NpgsqlConnection(TestStorage.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT SiloName, Status FROM OrleansMembershipTable WHERE DeploymentId = @d ORDER BY SiloName", connection);
        command.Parameters.AddWithValue("d", _clusterId);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add($"{reader.GetString(0)}={(SiloStatus)reader.GetInt32(1)}");
        return rows;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in Enumerable.Reverse(_hosts))
        {
            try
            {
                await host.StopAsync(new CancellationToken(canceled: true));
            }
            catch (Exception)
            {
                // Already stopped, or stopping fast on purpose: the host is disposed either way.
            }

            host.Dispose();
        }
    }
}
