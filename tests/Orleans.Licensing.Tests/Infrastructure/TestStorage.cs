using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Storage;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>The grain storage every silo of a test cluster shares: the embedded SQLite store in a temporary folder.</summary>
public static class TestStorage
{
    public static void Configure(ISiloBuilder silo, string directory) =>
        silo.Services.AddSqliteGrainStorage(LicensingOptions.StorageName, Path.Combine(directory, "licensing.db"));
}
