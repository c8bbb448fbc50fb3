using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Licensing.Storage;

public static class SqliteGrainStorageExtensions
{
    /// <summary>Registers <see cref="SqliteGrainStorage"/> as the named grain storage provider, in the file at <paramref name="path"/>.</summary>
    public static IServiceCollection AddSqliteGrainStorage(this IServiceCollection services, string name, string path) =>
        services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) => new SqliteGrainStorage(path, sp.GetRequiredService<Serializer>()));
}
