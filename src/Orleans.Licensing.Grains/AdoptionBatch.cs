namespace Orleans.Licensing;

/// <summary>
/// When a server crashes, its clients fail over to the others all at once. Each adoption must reach the leader, which
/// takes one change at a time; one leader call per lease made a crashed server with 10,000 leases take 146 s to fail
/// over. Here one call runs at a time and carries every adoption that arrived while the previous one ran.
/// </summary>
internal sealed class AdoptionBatch
{
    private readonly List<AdoptedLease> _waiting = [];
    private readonly GroupCommit _calls;
    private int _waitingCount;

    public AdoptionBatch(Func<IReadOnlyList<AdoptedLease>, int, Task> report) => _calls = new GroupCommit(() =>
    {
        var adoptions = _waiting.ToList();
        var count = _waitingCount;
        _waiting.Clear();
        _waitingCount = 0;
        return report(adoptions, count);
    });

    /// <summary>Completes once the leader has recorded the adoption (and granted what its batch needed, if it could).</summary>
    public Task ReportAsync(AdoptedLease adoption, int count)
    {
        _waiting.Add(adoption);
        _waitingCount += count;
        return _calls.CommitAsync();
    }
}
