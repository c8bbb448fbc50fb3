using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Licensing.Storage;
using Orleans.TestingHost;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// A real Orleans cluster of license servers (in-process silos named Primary, Secondary_1, ...) whose grain storage is
/// one SQLite file that outlives any silo. Kill and restart keep a server's name, as a StatefulSet pod would.
/// </summary>
public sealed class PoolCluster : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));

    public PoolCluster(int silos, Action<LicensingOptions> configure)
    {
        Directory.CreateDirectory(_directory);
        var database = Path.Combine(_directory, "licensing.db");
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSqliteGrainStorage(LicensingOptions.StorageName, database);
            silo.AddLicensing(configure);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.NumMissedProbesLimit = 1;
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumVotesForDeathDeclaration = 1;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
            });
        });
        Cluster = builder.Build();
    }

    public InProcessTestCluster Cluster { get; }

    public IClusterClient Client => Cluster.Client;

    public IGrainFactory Grains => Cluster.Client;

    public IReadOnlyList<string> ServerIds => [.. Cluster.Silos.Where(s => s.IsActive).Select(s => s.Name).Order(StringComparer.Ordinal)];

    public Task StartAsync() => Cluster.DeployAsync();

    public IServerGrain Server(string serverId, string code) => Grains.GetServerGrain(serverId, code);

    public IPoolGrain Pool(string code) => Grains.GetGrain<IPoolGrain>(code);

    public async Task<Distribution> DistributionAsync(string code) =>
        await Pool(code).GetDistribution() ?? throw new InvalidOperationException($"No license code {code}.");

    /// <summary>Creates a license code through <paramref name="viaServer"/>, whose silo then hosts its leader.</summary>
    public Task<Distribution> AddCodeAsync(string code, int seats, string viaServer, DistributionCriteria? criteria = null) =>
        Server(viaServer, code).AddLicenseCode(new AddLicenseCode(new LicenseCode(code, "product", seats), criteria));

    public static string NewCode(string prefix = "code") => $"{prefix}-{Guid.NewGuid():N}"[..24];

    public T Service<T>(string serverId) where T : notnull =>
        Cluster.Silos.Single(s => s.IsActive && s.Name == serverId).ServiceProvider.GetRequiredService<T>();

    /// <summary>Kills a server's silo (no graceful shutdown) and waits until the other silos see it dead.</summary>
    public async Task KillAsync(string serverId)
    {
        var silo = Cluster.Silos.Single(s => s.IsActive && s.Name == serverId);
        await Cluster.KillSiloAsync(silo);
        await WaitAsync.UntilAsync(() => Task.FromResult(Cluster.Silos.Where(s => s.IsActive).All(s =>
            !s.ServiceProvider.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values
                .Any(m => m.Name == serverId && m.Status == SiloStatus.Active))), $"{serverId} declared dead");
    }

    /// <summary>Starts a killed server again under the same name and waits until every silo sees it active.</summary>
    public async Task RestartAsync(string serverId)
    {
        var instance = serverId == "Primary" ? 0 : int.Parse(serverId.Split('_')[1]);
        await Cluster.StartSiloAsync(instance, Cluster.Options);
        await WaitAsync.UntilAsync(() => Task.FromResult(Cluster.Silos.Where(s => s.IsActive).All(s =>
            s.ServiceProvider.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values
                .Count(m => m.Status == SiloStatus.Active) == Cluster.Silos.Count(x => x.IsActive))), $"{serverId} active everywhere");
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
