using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// The leader's fence (docs/safety.md, "the fence"): the only way the leader touches a server's storage. It writes an
/// entry of its own into the server's journal, conditional on the ETag of the slot the server writes next, and reads
/// the leases as of that entry. Every acknowledgement of the server follows a write of its journal, and its next write
/// now fails, so what the fence reads is everything the server ever acknowledged, and it acknowledges nothing more
/// until it reloads and rejoins through the leader.
/// </summary>
internal static class JournalFence
{
    /// <summary>Conflicts with a busy server tolerated before the fence gives up (each costs one read and one write).</summary>
    private const int Attempts = 64;

    /// <summary>
    /// Fences a server's journal. Fencing a server whose last entry is a fence already replaces that entry, so a down
    /// server fenced by every new leader activation never fills its ring. A server that appends meanwhile only makes
    /// the fence read its new entries and try the slot after them.
    /// </summary>
    public static async Task<(ServerRecord Record, LeaseBook Leases, bool Existed)> FenceAsync(IGrainStorage storage, GrainId grainId, LicensingOptions options)
    {
        var (_, leases, journal) = await ServerJournal.LoadAsync(storage, grainId, options);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var existed = journal.Exists;
                await journal.WriteEntryAsync(new JournalEntry { Fence = true });
                return (journal.Record, leases, existed);
            }
            catch (InconsistentStateException) when (attempt < Attempts)
            {
                // The server wrote the slot first: read what it wrote and fence the slot after it.
                if (!await journal.ReplayAsync(leases)) (_, leases, journal) = await ServerJournal.LoadAsync(storage, grainId, options);
            }
        }
    }
}
