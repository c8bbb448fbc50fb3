namespace Orleans.Licensing;

[GenerateSerializer, Alias("Orleans.Licensing.CatalogState")]
public sealed class CatalogState
{
    [Id(0)] public SortedSet<string> Codes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The license codes of the pool, so that a server and the dashboard know what there is to serve. One record for the
/// whole pool: reentrant with group commit, so that codes added at the same time share one write (measured: one write
/// per add held adding codes to ~40 per second).
/// </summary>
[Reentrant]
public sealed class CatalogGrain(
    [PersistentState("catalog", LicensingOptions.StorageName)] IPersistentState<CatalogState> catalog) : Grain, ICatalogGrain
{
    private readonly HashSet<string> _unwritten = new(StringComparer.Ordinal);
    private GroupCommit? _commit;

    // The codes this grain changes; storage is given a copy: the provider may serialize on another thread after its
    // first await, while another Add changes the set (measured: "Destination array is not long enough" at 94,000 codes).
    private SortedSet<string>? _codes;

    private SortedSet<string> Codes => _codes ??= new SortedSet<string>(catalog.State.Codes, StringComparer.Ordinal);

    async Task ICatalogGrain.Add(string code)
    {
        if (!Codes.Add(code) && !_unwritten.Contains(code)) return;
        _unwritten.Add(code);
        _commit ??= new GroupCommit(WriteAsync);
        await _commit.CommitAsync();
    }

    Task<IReadOnlyList<string>> ICatalogGrain.GetCodes() => Task.FromResult<IReadOnlyList<string>>([.. Codes]);

    private async Task WriteAsync()
    {
        var covered = _unwritten.ToList();
        catalog.State = new CatalogState { Codes = new SortedSet<string>(Codes, StringComparer.Ordinal) };
        await catalog.WriteStateAsync();
        _unwritten.ExceptWith(covered);
    }
}
