using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// A server's leases of one license code, spread over a fixed number of storage records (pages) by a stable hash of
/// the lease id. A change marks its page dirty and is remembered until the journal takes it; a flush writes only
/// dirty pages, each as a copy of what the journal already holds (changes it has not taken yet are left out, so a
/// page never holds a change that was not acknowledged).
/// </summary>
internal sealed class LeaseBook
{
    private readonly IGrainStorage _storage;
    private readonly GrainId _grainId;
    private readonly GrainState<LeasePage>[] _pages;
    private readonly HashSet<int> _dirty = [];

    // Lease id → the lease before its first change since the journal last took the changes (null: it did not exist).
    private readonly Dictionary<string, LeaseRecord?> _before = new(StringComparer.Ordinal);

    public LeaseBook(IGrainStorage storage, GrainId grainId, int pages)
    {
        _storage = storage;
        _grainId = grainId;
        _pages = new GrainState<LeasePage>[pages];
    }

    /// <summary>Allocations in use: the sum of lease counts.</summary>
    public int InUse { get; private set; }

    public int Count { get; private set; }

    public bool IsDirty => _dirty.Count > 0;

    public IEnumerable<LeaseRecord> All => _pages.SelectMany(p => p.State!.Leases.Values);

    public static string PageName(int page) => $"leases-{page}";

    /// <summary>Reads the leases of any server grain (the leader reads a down server's this way).</summary>
    public static async Task<LeaseBook> LoadAsync(IGrainStorage storage, GrainId grainId, int pages)
    {
        var book = new LeaseBook(storage, grainId, pages);
        await Task.WhenAll(Enumerable.Range(0, pages).Select(async i =>
        {
            var page = new GrainState<LeasePage>(new LeasePage());
            await storage.ReadStateAsync(PageName(i), grainId, page);
            page.State ??= new LeasePage();
            book._pages[i] = page;
        }));
        foreach (var lease in book.All)
        {
            book.InUse += lease.Count;
            book.Count++;
        }

        return book;
    }

    public bool TryGet(string leaseId, out LeaseRecord lease) => Page(leaseId).Leases.TryGetValue(leaseId, out lease!);

    public void Put(LeaseRecord lease)
    {
        var page = PageOf(lease.LeaseId);
        var leases = _pages[page].State!.Leases;
        var existed = leases.TryGetValue(lease.LeaseId, out var old);
        _before.TryAdd(lease.LeaseId, old);
        if (existed)
        {
            InUse -= old!.Count;
            Count--;
        }

        leases[lease.LeaseId] = lease;
        InUse += lease.Count;
        Count++;
        _dirty.Add(page);
    }

    public bool Remove(string leaseId)
    {
        var page = PageOf(leaseId);
        if (!_pages[page].State!.Leases.Remove(leaseId, out var old)) return false;
        _before.TryAdd(leaseId, old);
        InUse -= old.Count;
        Count--;
        _dirty.Add(page);
        return true;
    }

    /// <summary>The changes since the last call, for a journal entry: leases put (as they are now) and ids removed.</summary>
    public (List<LeaseRecord> Put, List<string> Removed) TakeChanges()
    {
        var put = new List<LeaseRecord>();
        var removed = new List<string>();
        foreach (var (id, before) in _before)
        {
            if (TryGet(id, out var now)) put.Add(now);
            else if (before is not null) removed.Add(id);
        }

        _before.Clear();
        return (put, removed);
    }

    /// <summary>Forgets the changes made so far without journaling them: they were replayed from the journal.</summary>
    public void AcceptChanges() => _before.Clear();

    /// <summary>Writes every dirty page as the journal holds it. A page that fails stays dirty.</summary>
    public async Task FlushAsync()
    {
        if (_dirty.Count == 0) return;
        var dirty = _dirty.ToArray();
        _dirty.Clear();
        try
        {
            await Task.WhenAll(dirty.Select(async page =>
            {
                var current = _pages[page];
                var leases = new Dictionary<string, LeaseRecord>(current.State!.Leases);
                foreach (var (id, before) in _before)
                {
                    if (PageOf(id) != page) continue;
                    if (before is null) leases.Remove(id);
                    else leases[id] = before;
                }

                var copy = new GrainState<LeasePage>(new LeasePage { Leases = leases }, current.ETag);
                await _storage.WriteStateAsync(PageName(page), _grainId, copy);
                current.ETag = copy.ETag;
                current.RecordExists = true;
            }));
        }
        catch
        {
            _dirty.UnionWith(dirty);
            throw;
        }
        finally
        {
            // Changes left out of this flush go into the next one.
            foreach (var id in _before.Keys) _dirty.Add(PageOf(id));
        }
    }

    private LeasePage Page(string leaseId) => _pages[PageOf(leaseId)].State!;

    private int PageOf(string leaseId)
    {
        // FNV-1a: stable across processes, unlike string.GetHashCode.
        var hash = 2166136261u;
        foreach (var c in leaseId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)_pages.Length);
    }
}
