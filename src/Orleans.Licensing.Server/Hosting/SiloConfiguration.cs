using Orleans.Configuration;
using Orleans.Licensing.Storage;

namespace Orleans.Licensing.Server.Hosting;

public static class SiloConfiguration
{
    public const string ConnectionStringName = "Licensing";

    /// <summary>Section bound to Orleans' <see cref="ClusterMembershipOptions"/> (failure detection timing).</summary>
    public const string MembershipSection = ServerSettings.Section + ":Membership";

    /// <summary>Configures the silo inside this process: its name, clustering, grain storage and the pool's grains.</summary>
    public static void Configure(ISiloBuilder silo, ServerSettings settings, IConfiguration configuration)
    {
        silo.Configure<SiloOptions>(o => o.SiloName = settings.ServerId);
        silo.AddLicensing(o => configuration.GetSection(ServerSettings.Section).Bind(o));

        // Any ClusterMembershipOptions property (ProbeTimeout, NumMissedProbesLimit, NumVotesForDeathDeclaration,
        // TableRefreshTimeout, IAmAliveTablePublishTimeout, ...) can be set as Licensing:Membership:<Name>.
        silo.Configure<ClusterMembershipOptions>(configuration.GetSection(MembershipSection));
        SiloTls.Configure(silo, settings);
        if (settings.DiagnosticsEndpoint)
        {
            // One instance: the filter counts, the diagnostics endpoint reads.
            silo.Services.AddSingleton<PoolCallCounter>();
            silo.Services.AddSingleton<IOutgoingGrainCallFilter>(sp => sp.GetRequiredService<PoolCallCounter>());
        }

        if (configuration.GetConnectionString(ConnectionStringName) is { Length: > 0 } connectionString)
        {
            // PostgreSQL mode: silo membership and grain storage in one database (schema of sql/). No server is special:
            // any of them can stop or crash, and a server that restarts with the same id finds its state again.
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            if (settings.ParseAdvertisedAddress() is { } advertised)
            {
                silo.ConfigureEndpoints(advertised, settings.SiloPort, settings.GatewayPort);
            }
            else
            {
                silo.ConfigureEndpoints(settings.SiloPort, settings.GatewayPort);
            }

            silo.UseLicensingPostgres(connectionString, settings.Storage);
            return;
        }

        // Embedded mode: localhost clustering (several servers join through the primary's silo endpoint) and one
        // SQLite file that every server of the pool shares.
        silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, settings.ParsePrimarySiloEndpoint(), settings.ServiceId, settings.ClusterId);
        silo.Services.AddSqliteGrainStorage(LicensingOptions.StorageName, settings.DatabaseFile);
    }
}
