using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// How a server grain keeps its record and leases durable with one small write per commit (claim 33).
/// <para>
/// Storage holds a snapshot (the "server" record and the lease pages of <see cref="LeaseBook"/>) and a journal: a
/// ring of <see cref="ServerRecord.JournalSlots"/> records, entry n in slot n mod slots. A commit appends one entry
/// with only what changed. Every half ring the snapshot is brought up to the last entry (dirty pages, then the
/// record), so the ring never overwrites an entry the snapshot does not cover. Loading replays the entries after the
/// snapshot's sequence until a slot holds an older one.
/// </para>
/// <para>
/// Every write is conditional on the ETag this activation last saw, so a stale duplicate activation fails on its
/// next write: two activations can never both append entry n. Snapshots hold only journaled changes, and replaying
/// an entry over a page that already has it changes nothing, so a snapshot cut short by a crash is harmless.
/// </para>
/// <para>
/// A fence (<see cref="JournalFence"/>) that is the last entry is replaced in place by the next entry, whoever writes
/// it: the leader's next fence or the server's first commit after it reloaded. Repeated fences of a server that is
/// down therefore never fill the ring, and a server that loaded before a fence still fails its next write.
/// </para>
/// </summary>
internal sealed class ServerJournal
{
    public const string RecordName = "server";

    private readonly IGrainStorage _storage;
    private readonly GrainId _grainId;
    private readonly GrainState<ServerRecord> _stored;
    private readonly string?[] _etags;
    private ServerRecord _journaled;
    private bool _trailingFence;

    private ServerJournal(IGrainStorage storage, GrainId grainId, GrainState<ServerRecord> stored, ServerRecord snapshot)
    {
        _storage = storage;
        _grainId = grainId;
        _stored = stored;
        _journaled = snapshot;
        _etags = new string?[snapshot.JournalSlots];
        for (var i = 0; i < _etags.Length && i < snapshot.JournalETags.Count; i++) _etags[i] = snapshot.JournalETags[i];
        Sequence = Snapshot = snapshot.Sequence;
    }

    /// <summary>The last entry appended (or replayed).</summary>
    public long Sequence { get; private set; }

    /// <summary>The last entry the stored snapshot covers.</summary>
    public long Snapshot { get; private set; }

    /// <summary>The record as of <see cref="Sequence"/>.</summary>
    public ServerRecord Record => _journaled;

    /// <summary>Whether anything of this server was ever stored.</summary>
    public bool Exists => _stored.RecordExists || Sequence > 0;

    /// <summary>Whether the last entry is a fence (the next entry replaces it).</summary>
    public bool EndsWithFence => _trailingFence;

    /// <summary>Whether the snapshot should catch up now: half the ring is used, or no record was ever written.</summary>
    public bool ShouldCompact => Sequence > Snapshot && (Sequence - Snapshot >= _etags.Length / 2 || !_stored.RecordExists);

    public static string SlotName(long sequence, int slots) => $"journal-{sequence % slots}";

    /// <summary>Reads a server's snapshot and replays its journal (the leader reads a down server's this way too).</summary>
    public static async Task<(ServerRecord Record, LeaseBook Leases, ServerJournal Journal)> LoadAsync(
        IGrainStorage storage, GrainId grainId, LicensingOptions options)
    {
        var stored = new GrainState<ServerRecord>(new ServerRecord());
        await storage.ReadStateAsync(RecordName, grainId, stored);
        var snapshot = stored.State ?? new ServerRecord();
        if (snapshot.LeasePages == 0) snapshot = snapshot with { LeasePages = options.LeasePages };
        if (snapshot.JournalSlots == 0) snapshot = snapshot with { JournalSlots = Math.Max(2, options.JournalSlots) };

        var leases = await LeaseBook.LoadAsync(storage, grainId, snapshot.LeasePages);
        var journal = new ServerJournal(storage, grainId, stored, snapshot);
        if (!await journal.ReplayAsync(leases))
        {
            throw new InconsistentStateException($"The journal of {grainId} moved on by a whole ring while it was read; read it again.");
        }

        return (journal.Record, leases, journal);
    }

    /// <summary>
    /// Replays the entries written since the last one read (a trailing fence is read again: it may have been replaced).
    /// False when the ring moved on by a whole turn meanwhile: the caller loads the snapshot again.
    /// </summary>
    public async Task<bool> ReplayAsync(LeaseBook leases)
    {
        for (var next = _trailingFence ? Sequence : Sequence + 1; ; next++)
        {
            var slot = new GrainState<JournalEntry>(new JournalEntry());
            await _storage.ReadStateAsync(SlotName(next, _etags.Length), _grainId, slot);
            _etags[next % _etags.Length] = slot.ETag;
            if (slot.State is not { } entry || entry.Sequence < next) break;
            if (entry.Sequence > next) return false;

            foreach (var lease in entry.Put) leases.Put(lease);
            foreach (var id in entry.Removed) leases.Remove(id);
            if (entry.Record is { } changed) _journaled = Own(changed);
            Sequence = next;
            _trailingFence = entry.Fence;
        }

        leases.AcceptChanges();
        return true;
    }

    /// <summary>Appends what changed since the last entry. Returns false when nothing changed.</summary>
    public async Task<bool> AppendAsync(ServerRecord record, LeaseBook leases)
    {
        var (put, removed) = leases.TakeChanges();
        var recordChanged = !ReferenceEquals(record, _journaled);
        if (put.Count == 0 && removed.Count == 0 && !recordChanged) return false;

        await WriteEntryAsync(new JournalEntry { Put = put, Removed = removed, Record = recordChanged ? record : null });
        _journaled = record;
        return true;
    }

    /// <summary>
    /// Writes the next entry, conditional on the ETag last seen for its slot; a trailing fence is replaced in place
    /// (same sequence, same slot), so whoever read the journal before the fence's last write fails here.
    /// </summary>
    public async Task WriteEntryAsync(JournalEntry entry)
    {
        var next = _trailingFence ? Sequence : Sequence + 1;
        if (next - Snapshot >= _etags.Length)
        {
            throw new InvalidOperationException($"Journal entry {next} would overwrite entry {next - _etags.Length}, which the snapshot ({Snapshot}) does not cover.");
        }

        entry.Sequence = next;
        var slot = (int)(next % _etags.Length);
        var state = new GrainState<JournalEntry>(entry, _etags[slot]);
        await _storage.WriteStateAsync(SlotName(next, _etags.Length), _grainId, state);
        _etags[slot] = state.ETag;
        Sequence = next;
        _trailingFence = entry.Fence;
    }

    /// <summary>Brings the snapshot up to the last entry: the dirty lease pages, then the record.</summary>
    public async Task CompactAsync(LeaseBook leases)
    {
        var upTo = Sequence;
        await leases.FlushAsync();
        _stored.State = _journaled with { Sequence = upTo, JournalETags = [.. _etags] };
        await _storage.WriteStateAsync(RecordName, _grainId, _stored);
        Snapshot = upTo;

        // A fence the snapshot covers is not replayed any more, so the next entry must not replace it.
        _trailingFence = false;
    }

    /// <summary>A record from an entry, with this journal's bookkeeping (entries carry what was current when written).</summary>
    private ServerRecord Own(ServerRecord entryRecord) => entryRecord with
    {
        Sequence = _journaled.Sequence,
        JournalSlots = _journaled.JournalSlots,
        JournalETags = _journaled.JournalETags,
        LeasePages = _journaled.LeasePages,
    };
}
