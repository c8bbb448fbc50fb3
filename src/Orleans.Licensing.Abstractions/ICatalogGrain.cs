namespace Orleans.Licensing;

/// <summary>The license codes the pool serves (single instance, key <see cref="Key"/>).</summary>
[Alias("Orleans.Licensing.ICatalogGrain")]
public interface ICatalogGrain : IGrainWithStringKey
{
    const string Key = "catalog";

    [Alias("Add")]
    Task Add(string code);

    [Alias("GetCodes")]
    Task<IReadOnlyList<string>> GetCodes();
}
