namespace Orleans.Licensing;

/// <summary>
/// When a server crashes, its clients fail over to the others all at once. Each adoption must reach the leader, which
/// takes one change at a time; one leader call per lease made a crashed server with 10,000 leases take 146 s to fail
/// over. Here one call runs at a time and carries every adoption that arrived while the previous one ran.
/// </summary>
internal sealed class AdoptionBatch
{
    private readonly List<AdoptedLease> _waiting = [];
    private readonly Dictionary<string, string> _refused = new(StringComparer.Ordinal);
    private readonly GroupCommit _calls;
    private int _waitingCount;

    /// <param name="report">Reports a batch to the leader; returns the adoptions it refused, by lease id, with the error.</param>
    public AdoptionBatch(Func<IReadOnlyList<AdoptedLease>, int, Task<IReadOnlyDictionary<string, string>?>> report) => _calls = new GroupCommit(async () =>
    {
        var adoptions = _waiting.ToList();
        var count = _waitingCount;
        _waiting.Clear();
        _waitingCount = 0;
        var refused = await report(adoptions, count);
        foreach (var (leaseId, error) in refused ?? new Dictionary<string, string>()) _refused[leaseId] = error;
    });

    /// <summary>
    /// Completes once the leader has decided on the adoption (and granted what its batch needed, if it could): null
    /// when it recorded it, else the error to answer the client with.
    /// </summary>
    public async Task<string?> ReportAsync(AdoptedLease adoption, int count)
    {
        _waiting.Add(adoption);
        _waitingCount += count;
        await _calls.CommitAsync();
        return _refused.Remove(adoption.LeaseId, out var error) ? error : null;
    }
}
