namespace Orleans.Licensing;

[GenerateSerializer, Alias("Orleans.Licensing.CatalogState")]
public sealed class CatalogState
{
    [Id(0)] public SortedSet<string> Codes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The license codes of the pool, so that a server and the dashboard know what there is to serve.</summary>
public sealed class CatalogGrain(
    [PersistentState("catalog", LicensingOptions.StorageName)] IPersistentState<CatalogState> catalog) : Grain, ICatalogGrain
{
    async Task ICatalogGrain.Add(string code)
    {
        if (catalog.State.Codes.Add(code)) await catalog.WriteStateAsync();
    }

    Task<IReadOnlyList<string>> ICatalogGrain.GetCodes() => Task.FromResult<IReadOnlyList<string>>([.. catalog.State.Codes]);
}
