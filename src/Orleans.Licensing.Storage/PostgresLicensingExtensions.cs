using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Licensing.Storage;
using Orleans.Licensing.Usage;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// Runs the license pool on PostgreSQL: silo membership through Orleans' ADO.NET clustering, grain state in our own
/// table. The database must hold the schema of the repository's <c>sql/</c> folder (applied as a deployment step, not
/// at silo start).
/// </summary>
public static class PostgresLicensingExtensions
{
    /// <summary>The ADO.NET invariant of Npgsql; Orleans' own default is SQL Server.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// ADO.NET clustering (silo membership in PostgreSQL) plus the grain storage named
    /// <see cref="LicensingOptions.StorageName"/> in PostgreSQL.
    /// </summary>
    public static ISiloBuilder UseLicensingPostgres(this ISiloBuilder builder, string connectionString, PostgresStorage storage = PostgresStorage.Batching)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = Tuned(connectionString);
        });
        return storage == PostgresStorage.AdoNet ? builder.AddLicensingAdoNetStorage(connectionString) : builder.AddLicensingPostgresStorage(connectionString);
    }

    /// <summary>
    /// The grain storage named <see cref="LicensingOptions.StorageName"/> in PostgreSQL: <see cref="PostgresGrainStorage"/>
    /// on the table of sql/030 (not Orleans' ADO.NET provider, which spends a transaction on every write: see the
    /// README). States are written with Orleans' own binary serializer, as in the embedded SQLite store: the state types
    /// are Orleans <c>[GenerateSerializer]</c> types whose version tolerance comes from their <c>[Id]</c>s.
    /// </summary>
    public static ISiloBuilder AddLicensingPostgresStorage(this ISiloBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.Services.AddKeyedSingleton<IGrainStorage>(LicensingOptions.StorageName, (services, _) => new PostgresGrainStorage(
            Tuned(connectionString),
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            services.GetRequiredService<Serializer>()));
        builder.Services.AddSingleton<IUsageStore>(services => new PostgresUsageStore(Tuned(connectionString), services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId));
        return builder;
    }

    /// <summary>ADO.NET clustering for an Orleans client (for example an ASP.NET frontend calling grains directly).</summary>
    public static IClientBuilder UseLicensingPostgresClustering(this IClientBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
    }

    /// <summary>
    /// The provider sends the same few statements all day: preparing them saves PostgreSQL a parse and a plan per
    /// write (measured: planning took twice the execution time of a journal write), and skipping the reset on every
    /// return to the pool saves a DISCARD ALL per call. Settings given in the connection string win.
    /// </summary>
    internal static string Tuned(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 32;
        if (!builder.ContainsKey("No Reset On Close")) builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }
}
