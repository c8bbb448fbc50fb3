using Orleans.Licensing.Grants;

namespace Orleans.Licensing;

[GenerateSerializer, Alias("Orleans.Licensing.CatalogState")]
public sealed class CatalogState
{
    [Id(0)] public SortedSet<string> Codes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The pool id, made once (the first time it is asked for); grants name it.</summary>
    [Id(1)] public string? PoolId { get; set; }

    /// <summary>Seats of trial grants by grant id, across all codes: the trial cap is checked against their sum.</summary>
    [Id(2)] public Dictionary<string, int> TrialGrants { get; set; } = [];
}

/// <summary>
/// The license codes of the pool, so that a server and the dashboard know what there is to serve; the pool id; the
/// seats of trial grants (one place that sees every code). One record for the whole pool: reentrant with group commit,
/// so that codes added at the same time share one write (measured: one write per add held adding codes to ~40 per
/// second).
/// </summary>
[Reentrant]
public sealed class CatalogGrain(
    [PersistentState("catalog", LicensingOptions.StorageName)] IPersistentState<CatalogState> catalog,
    IOptions<LicensingOptions> options) : Grain, ICatalogGrain
{
    private readonly HashSet<string> _unwritten = new(StringComparer.Ordinal);
    private GroupCommit? _commit;

    // The codes this grain changes; storage is given a copy: the provider may serialize on another thread after its
    // first await, while another Add changes the set (measured: "Destination array is not long enough" at 94,000 codes).
    private SortedSet<string>? _codes;
    private string? _poolId;
    private Dictionary<string, int>? _trial;

    private SortedSet<string> Codes => _codes ??= new SortedSet<string>(catalog.State.Codes, StringComparer.Ordinal);

    private Dictionary<string, int> Trial => _trial ??= new Dictionary<string, int>(catalog.State.TrialGrants, StringComparer.Ordinal);

    private GroupCommit Commit => _commit ??= new GroupCommit(WriteAsync);

    async Task ICatalogGrain.Add(string code)
    {
        if (!Codes.Add(code) && !_unwritten.Contains(code)) return;
        _unwritten.Add(code);
        await Commit.CommitAsync();
    }

    Task<IReadOnlyList<string>> ICatalogGrain.GetCodes() => Task.FromResult<IReadOnlyList<string>>([.. Codes]);

    async Task<string> ICatalogGrain.GetPoolId()
    {
        if (catalog.State.PoolId is { } stored) return stored;

        // Made here, once; every caller waits until it is durable, so no grant is checked against an id that a crash
        // could replace.
        _poolId ??= string.IsNullOrWhiteSpace(options.Value.PoolId) ? "pool-" + Guid.NewGuid().ToString("N") : options.Value.PoolId.Trim();
        var id = _poolId;
        await Commit.CommitAsync();
        return id;
    }

    async Task ICatalogGrain.ReserveTrialSeats(string grantId, int seats)
    {
        // Checked and counted before the await: reentrant calls cannot both pass the cap.
        if (!Trial.ContainsKey(grantId))
        {
            var counted = Trial.Values.Sum();
            if (seats < 1 || counted + seats > TrialLimit.Seats)
            {
                throw new LicensingException(LicensingErrors.TrialLimit,
                    $"Seats signed by a trial key are capped at {TrialLimit.Seats} per pool (this pool has {counted}); this grant adds {seats}. Use a vendor key.");
            }

            Trial[grantId] = seats;
        }

        await Commit.CommitAsync();
    }

    Task<int> ICatalogGrain.GetTrialSeats() => Task.FromResult(Trial.Values.Sum());

    private async Task WriteAsync()
    {
        var covered = _unwritten.ToList();
        var next = new CatalogState
        {
            Codes = new SortedSet<string>(Codes, StringComparer.Ordinal),
            PoolId = catalog.State.PoolId ?? _poolId,
            TrialGrants = new Dictionary<string, int>(Trial, StringComparer.Ordinal),
        };
        var previous = catalog.State;
        try
        {
            catalog.State = next;
            await catalog.WriteStateAsync();
        }
        catch
        {
            // The stored state stays what was durable; what this activation counted meanwhile (a trial grant, a pool
            // id) is read again by the next activation. A retry of the same grant id writes it again.
            catalog.State = previous;
            DeactivateOnIdle();
            throw;
        }

        _unwritten.ExceptWith(covered);
    }
}
