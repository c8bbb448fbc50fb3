using Orleans.Configuration;
using Orleans.Licensing.Storage;

namespace Orleans.Licensing.Server.Hosting;

public static class SiloConfiguration
{
    public const string ConnectionStringName = "Licensing";
    private const string ClusterName = "orleans-licensing";

    /// <summary>Configures the silo inside this process: its name, clustering, grain storage and the pool's grains.</summary>
    public static void Configure(ISiloBuilder silo, ServerSettings settings, IConfiguration configuration)
    {
        silo.Configure<SiloOptions>(o => o.SiloName = settings.ServerId);
        silo.AddLicensing(o => configuration.GetSection(ServerSettings.Section).Bind(o));

        if (!string.IsNullOrWhiteSpace(configuration.GetConnectionString(ConnectionStringName)))
        {
            // The PostgreSQL mode (ADO.NET clustering and persistence) is its own piece of work; refusing to start is
            // better than silently running an embedded single-server pool the operator did not ask for.
            throw new NotSupportedException(
                $"ConnectionStrings:{ConnectionStringName} is set, but PostgreSQL clustering and storage are not supported by this build yet. " +
                "Remove the connection string to run with the embedded store.");
        }

        // Embedded mode: localhost clustering (several servers join through the primary's silo endpoint) and one
        // SQLite file that every server of the pool shares.
        silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, settings.ParsePrimarySiloEndpoint(), ClusterName, ClusterName);
        silo.Services.AddSqliteGrainStorage(LicensingOptions.StorageName, settings.DatabaseFile);
    }
}
