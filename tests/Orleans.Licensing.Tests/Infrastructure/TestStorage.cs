using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Storage;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// The grain storage every silo of a test cluster shares. By default the embedded SQLite store in a temporary folder;
/// when <see cref="PostgresVariable"/> holds a connection string, PostgreSQL (<see cref="PostgresGrainStorage"/>), set up
/// exactly as production sets it up (<see cref="PostgresLicensingExtensions.AddLicensingPostgresStorage"/>). The
/// database must hold the schema of sql/. Each test cluster has a fresh ServiceId (a Guid), and PostgreSQL records are
/// keyed by ServiceId, so clusters never see each other's state.
/// </summary>
public static class TestStorage
{
    /// <summary>The environment variable that switches every test cluster to PostgreSQL.</summary>
    public const string PostgresVariable = "LICENSING_TEST_POSTGRES";

    /// <summary>The PostgreSQL connection string, or null when the tests run on SQLite.</summary>
    public static string? PostgresConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value ? value : null;

    public static bool IsPostgres => PostgresConnectionString is not null;

    public static void Configure(ISiloBuilder silo, string directory)
    {
        if (PostgresConnectionString is { } connectionString)
        {
            silo.AddLicensingPostgresStorage(connectionString);
        }
        else
        {
            silo.Services.AddSqliteGrainStorage(LicensingOptions.StorageName, Path.Combine(directory, "licensing.db"));
        }
    }
}
