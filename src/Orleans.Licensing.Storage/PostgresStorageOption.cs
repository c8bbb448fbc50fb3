using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>Which grain storage holds the pool's state in PostgreSQL (setting <c>Licensing:Storage</c>).</summary>
public enum PostgresStorage
{
    /// <summary>
    /// <see cref="Storage.PostgresGrainStorage"/> on sql/030: the writes of all grains of a silo that wait at once share
    /// one batch and one transaction. The default: the faster one (docs/benchmarks.md).
    /// </summary>
    Batching,

    /// <summary>Orleans' own ADO.NET grain persistence (Microsoft.Orleans.Persistence.AdoNet) on sql/040: one transaction per write.</summary>
    AdoNet,
}

public static class AdoNetStorageExtensions
{
    /// <summary>
    /// The grain storage named <see cref="LicensingOptions.StorageName"/> through Orleans' ADO.NET persistence (table
    /// OrleansStorage of sql/040). States are written with Orleans' binary serializer, not the provider's default JSON
    /// (which could not read a ServerRecord back): the same bytes as the other stores.
    /// </summary>
    public static ISiloBuilder AddLicensingAdoNetStorage(this ISiloBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.AddAdoNetGrainStorage(LicensingOptions.StorageName, (OptionsBuilder<AdoNetGrainStorageOptions> options) =>
            options.Configure<Serializer>((o, serializer) =>
            {
                o.Invariant = PostgresLicensingExtensions.Invariant;
                o.ConnectionString = PostgresLicensingExtensions.Tuned(connectionString);
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
    }
}
