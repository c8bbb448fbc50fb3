using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// What a fence means to the leader's table: a server whose journal is fenced (<see cref="JournalFence"/>) counts as
/// down until it rejoins through the leader, whatever membership says (a paused or partitioned server may look alive),
/// and keeps, as held, the seats of the leases its clients may still fail over with; the rest is a source at once.
/// A server whose journal cannot be fenced or read is "unread": everything it has is held until it can be.
/// </summary>
internal sealed partial class Fencing(IGrainStorage storage, IGrainFactory grains, string code, LicensingOptions options, ILogger logger)
{
    // Servers being fenced: they cannot rejoin until the fence and the read of their leases are done.
    private readonly HashSet<string> _fencing = new(StringComparer.Ordinal);

    public bool InProgress(string serverId) => _fencing.Contains(serverId);

    /// <summary>Fences a server and holds its leases. False when its journal could not be written or read.</summary>
    public async Task<bool> FenceAsync(string serverId, ShareState share, IReadOnlyDictionary<string, Adoption> adoptions, OfflineBorrowState borrows)
    {
        _fencing.Add(serverId);
        try
        {
            var grainId = grains.GetServerGrain(serverId, code).GetGrainId();
            var (_, book, _) = await JournalFence.FenceAsync(storage, grainId, options);
            share.Down = true;
            share.Fenced = true;
            share.Unread = false;
            var now = DateTimeOffset.UtcNow;
            var borrowed = OfflineBorrowBook.Fenced(borrows, serverId, book.All.Select(l => l.LeaseId), now);
            share.Held = HeldLeases.Of(serverId, book.All, adoptions, share.Allocated, now, options.LeaseTtl, borrowed);
            LogFenced(code, serverId, share.Allocated, share.Held.Values.Sum(h => h.Count));
            return true;
        }
        catch (Exception e)
        {
            LogFenceFailed(e, code, serverId);
            return false;
        }
        finally
        {
            _fencing.Remove(serverId);
        }
    }

    /// <summary>Down, and its leases could not be read: every allocation it has stays held.</summary>
    public void MarkUnread(string serverId, ShareState share)
    {
        share.Down = true;
        share.Unread = true;
        share.Held.Clear();
        LogUnread(code, serverId, share.Allocated);
    }

    /// <summary>The server rejoined through the leader: it serves again, and nothing of it is held any more.</summary>
    public static void Rejoined(ShareState share, string siloAddress)
    {
        share.Down = false;
        share.Fenced = false;
        share.Unread = false;
        share.Held.Clear();
        share.RejoinedFrom = siloAddress;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: fenced server {ServerId} ({Allocated} allocated, {Held} held for its clients)")]
    private partial void LogFenced(string code, string serverId, int allocated, int held);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Code}: could not fence server {ServerId}; its allocations stay held")]
    private partial void LogFenceFailed(Exception e, string code, string serverId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: server {ServerId} is down with {Allocated} allocations, all held until its leases can be read")]
    private partial void LogUnread(string code, string serverId, int allocated);
}
