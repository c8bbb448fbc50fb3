using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// A server's leases of one license code, spread over a fixed number of storage records (pages) by a stable hash of
/// the lease id. A change marks its page dirty; a flush writes only dirty pages, each as a snapshot copy.
/// </summary>
internal sealed class LeaseBook
{
    private readonly IGrainStorage _storage;
    private readonly GrainId _grainId;
    private readonly GrainState<LeasePage>[] _pages;
    private readonly HashSet<int> _dirty = [];

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
        if (leases.TryGetValue(lease.LeaseId, out var old))
        {
            InUse -= old.Count;
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
        InUse -= old.Count;
        Count--;
        _dirty.Add(page);
        return true;
    }

    /// <summary>Writes every dirty page. A page that fails stays dirty.</summary>
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
                var copy = new GrainState<LeasePage>(new LeasePage { Leases = new(current.State!.Leases) }, current.ETag);
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
