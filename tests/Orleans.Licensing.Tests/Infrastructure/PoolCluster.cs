using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// A real Orleans cluster of license servers (in-process silos named Primary, Secondary_1, ...) whose grain storage is
/// one SQLite file that outlives any silo. Kill and restart keep a server's name, as a StatefulSet pod would.
/// </summary>
public sealed class PoolCluster : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));

    /// <param name="productionGuard">Keep the production <see cref="Security.ProtocolGuard"/> policy: the client is then refused the protocol.</param>
    public PoolCluster(int silos, Action<LicensingOptions> configure, Action<ISiloBuilder>? configureSilo = null, bool productionGuard = false)
    {
        Directory.CreateDirectory(_directory);
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ConfigureFileLogging = Environment.GetEnvironmentVariable("LICENSING_TEST_LOGS") == "1";
        builder.ConfigureSilo((_, silo) =>
        {
            TestStorage.Configure(silo, _directory);
            silo.Services.AddSingleton<IGrantVerifier>(TestGrants.Verifier);
            silo.AddLicensing(configure);
            if (productionGuard) ProductionPolicyWithTestHooks.Register(silo);
            else TestClientAdmitted.Register(silo);
            configureSilo?.Invoke(silo);
            // A call stuck on a silo that just died fails in 15 s, not the default 30 (kills are awaited before the next step).
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(15));
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.NumMissedProbesLimit = 1;
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumVotesForDeathDeclaration = 1;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
            });
        });
        builder.ConfigureClient(client => client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(15)));
        Cluster = builder.Build();
    }

    public InProcessTestCluster Cluster { get; }

    /// <summary>The running silos by server id. The test cluster forgets a silo started again after a kill, so keep our own.</summary>
    private readonly Dictionary<string, InProcessSiloHandle> _live = [];

    public IClusterClient Client => Cluster.Client;

    public IGrainFactory Grains => Cluster.Client;

    public IReadOnlyList<string> ServerIds => [.. _live.Keys.Order(StringComparer.Ordinal)];

    public async Task StartAsync()
    {
        await Cluster.DeployAsync();
        foreach (var silo in Cluster.Silos) _live[silo.Name] = silo;
    }

    public IServerGrain Server(string serverId, string code) => Grains.GetServerGrain(serverId, code);

    public IPoolGrain Pool(string code) => Grains.GetGrain<IPoolGrain>(code);

    public async Task<Distribution> DistributionAsync(string code) =>
        await Pool(code).GetDistribution() ?? throw new InvalidOperationException($"No license code {code}.");

    /// <summary>Creates a license code through <paramref name="viaServer"/>, whose silo then hosts its leader.</summary>
    public async Task<Distribution> AddCodeAsync(string code, int seats, string viaServer, DistributionCriteria? criteria = null) =>
        await Server(viaServer, code).AddLicenseCode(new AddLicenseCode(await CodeGrantAsync(code, seats), criteria));

    /// <summary>This cluster's pool id (the catalog makes it once).</summary>
    public Task<string> PoolIdAsync() => Grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetPoolId();

    /// <summary>A license code grant for this pool, signed by the test vendor.</summary>
    public async Task<string> CodeGrantAsync(string code, int seats, string product = "product", DateTimeOffset? expiresAt = null) =>
        TestGrants.Code(await PoolIdAsync(), code, seats, product, expiresAt);

    /// <summary>An allocations grant for this pool, signed by the test vendor.</summary>
    public async Task<AddAllocations> AllocationsAsync(string code, int count, string? grantId = null) =>
        new(code, TestGrants.Allocations(await PoolIdAsync(), code, count, grantId: grantId));

    public static string NewCode(string prefix = "code") => $"{prefix}-{Guid.NewGuid():N}"[..24];

    public T Service<T>(string serverId) where T : notnull =>
        _live[serverId].ServiceProvider.GetRequiredService<T>();

    /// <summary>Kills a server's silo (no graceful shutdown) and waits until the other silos see it dead.</summary>
    public async Task KillAsync(string serverId)
    {
        var silo = _live[serverId];
        _live.Remove(serverId);
        if (Cluster.Silos.Contains(silo))
        {
            await Cluster.KillSiloAsync(silo);
        }
        else
        {
            await silo.StopSiloAsync(stopGracefully: false);
            await silo.DisposeAsync();
        }

        await WaitAsync.UntilAsync(() => Task.FromResult(_live.Values.All(s =>
            !s.ServiceProvider.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values
                .Any(m => m.Name == serverId && m.Status == SiloStatus.Active))), $"{serverId} declared dead");
    }

    /// <summary>Starts a killed server again under the same name and waits until every silo sees it active.</summary>
    public async Task RestartAsync(string serverId)
    {
        var instance = int.Parse(serverId[(serverId.LastIndexOf('_') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var silo = await Cluster.StartSiloAsync(instance, Cluster.Options);
        Assert.Equal(serverId, silo.Name);
        _live[serverId] = silo;
        await WaitAsync.UntilAsync(() => Task.FromResult(_live.Values.All(s =>
            s.ServiceProvider.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values
                .Count(m => m.Status == SiloStatus.Active) == _live.Count)), $"{serverId} active everywhere");
    }

    /// <summary>Waits until the leader counts the server as down (membership reached it).</summary>
    public Task WaitUntilDownAsync(string code, string serverId) => WaitAsync.UntilAsync(async () =>
    {
        await Pool(code).RefreshMembership();
        return (await DistributionAsync(code))[serverId]?.Status == ServerStatus.Down;
    }, $"leader of {code} sees {serverId} down");

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var silo in _live.Values.Where(s => !Cluster.Silos.Contains(s)))
            {
                await silo.StopSiloAsync(stopGracefully: false);
                await silo.DisposeAsync();
            }

            await Cluster.StopAllSilosAsync();
        }
        catch
        {
            // A killed silo may throw on stop; the cluster is going away anyway.
        }

        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
