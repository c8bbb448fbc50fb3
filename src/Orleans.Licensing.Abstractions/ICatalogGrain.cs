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

    /// <summary>The pool id: made once, when first asked, and stored with the catalog. Grants name it.</summary>
    [Alias("GetPoolId")]
    Task<string> GetPoolId();

    /// <summary>
    /// Counts <paramref name="seats"/> signed by a trial key against the pool's trial cap, once per grant id (a retry
    /// counts nothing more); refuses <c>trial-limit</c> beyond the cap. Durable before it returns.
    /// </summary>
    [Alias("ReserveTrialSeats")]
    Task ReserveTrialSeats(string grantId, int seats);

    /// <summary>Seats of trial grants counted so far, across all codes.</summary>
    [Alias("GetTrialSeats")]
    Task<int> GetTrialSeats();
}
