namespace Orleans.Licensing;

/// <summary>
/// When a server crashes, its clients fail over to the others all at once. Each adoption must reach the leader, which
/// takes one change at a time; one leader call per lease made a crashed server with 10,000 leases take 146 s to fail
/// over. Here one call runs at a time and carries every adoption that arrived while the previous one ran.
/// </summary>
/// <remarks>
/// An adoption's seats are bound from the moment it is reported until its caller settles it, right where it adds the
/// lease: the leader may move the lease's seat here (and say so in a sync) long before the caller resumes, and in that
/// gap neither a checkout nor a give-up may take it, or the client's lease would have no seat anywhere.
/// </remarks>
internal sealed class AdoptionBatch
{
    private readonly List<AdoptedLease> _waiting = [];
    private readonly Dictionary<string, string> _refused = new(StringComparer.Ordinal);
    private readonly GroupCommit _calls;

    /// <param name="report">Reports a batch to the leader; returns the adoptions it refused, by lease id, with the error.</param>
    public AdoptionBatch(Func<IReadOnlyList<AdoptedLease>, Task<IReadOnlyDictionary<string, string>?>> report) => _calls = new GroupCommit(async () =>
    {
        var adoptions = _waiting.ToList();
        _waiting.Clear();
        var refused = await report(adoptions);
        foreach (var (leaseId, error) in refused ?? new Dictionary<string, string>()) _refused[leaseId] = error;
    });

    /// <summary>Seats of the adoptions reported and not settled yet: not free for checkouts, nor for the leader to take back.</summary>
    public int Seats { get; private set; }

    /// <summary>
    /// Completes once the leader has decided on the adoption (and granted what its batch needed, if it could): null
    /// when it recorded it, else the error to answer the client with. The caller then calls <see cref="Settle"/>.
    /// </summary>
    public async Task<string?> ReportAsync(AdoptedLease adoption)
    {
        Seats += adoption.Count;
        _waiting.Add(adoption);
        await _calls.CommitAsync();
        return _refused.Remove(adoption.LeaseId, out var error) ? error : null;
    }

    /// <summary>Unbinds a reported adoption's seats: call it in the same synchronous step that adds the lease (or gives up on it).</summary>
    public void Settle(AdoptedLease adoption) => Seats -= adoption.Count;
}
