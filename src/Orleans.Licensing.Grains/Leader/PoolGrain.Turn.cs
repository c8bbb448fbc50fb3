using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// A leader turn: compute on the live state (a copy of it is kept), write once, then apply and sync. On any failure
/// before the write the state is what it was before the turn (plus the rejoins that interleaved); after a failed
/// write the activation goes away and the next one reloads from storage. A rejoin is never told more than is durable.
/// </summary>
public sealed partial class PoolGrain
{
    // The state this grain changes; storage is given a copy of it (see CommitAndSyncAsync).
    private PoolState _live = null!;
    private PoolTable? _table;

    /// <summary>Each server's allocations as last written: a rejoining server never gets a raise that is not durable yet.</summary>
    private Dictionary<string, int> _committed = [];
    private long _committedVersion;

    private bool _inTurn;
    private bool _committedInTurn;
    private readonly List<(string ServerId, string SiloAddress)> _rejoinsInTurn = [];
    private bool _writing;

    private PoolState S => _live;

    private PoolTable Table => _table is { } t && ReferenceEquals(t.State, _live) ? t : _table = new PoolTable(_live, _options.DefaultThreshold);

    private async Task<T> TurnAsync<T>(Func<Task<T>> turn)
    {
        var before = copier.Copy(_live);
        _inTurn = true;
        _committedInTurn = false;
        _rejoinsInTurn.Clear();
        try
        {
            return await turn();
        }
        catch (Exception e)
        {
            LogTurnFailed(e, Code, _committedInTurn);
            if (_committedInTurn)
            {
                DeactivateOnIdle();
            }
            else
            {
                _live = before;
                foreach (var (serverId, siloAddress) in _rejoinsInTurn) ApplyRejoin(serverId, siloAddress);
            }

            throw;
        }
        finally
        {
            _inTurn = false;
            _rejoinsInTurn.Clear();
        }
    }

    /// <summary>Writes the change, then sends the distribution criteria sync to every functioning server (claim 6).</summary>
    private async Task CommitAndSyncAsync()
    {
        S.Version++;
        try
        {
            // The provider may serialize on another thread after its first await, while an interleaved Rejoin changes
            // a share: it writes a copy taken now, on this grain's turn.
            state.State = copier.Copy(_live);
            _writing = true;
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            // InconsistentStateException means another activation wrote: ours is stale. Never swallow it.
            LogWriteFailed(e, Code);
            DeactivateOnIdle();
            StorageFailure.Throw(e, log: null); // logged just above
        }
        finally
        {
            _writing = false;
        }

        RememberCommitted();
        _committedInTurn = true;
        await SendSyncAsync();
    }

    /// <summary>What storage holds now (just read or written): a rejoin is never told more than this.</summary>
    private void RememberCommitted()
    {
        _committed = S.Servers.ToDictionary(s => s.Key, s => s.Value.Allocated);
        _committedVersion = S.Version;
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogCommitted(Code, S.Version, S.FreePool, string.Join("; ", S.Servers.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
                $"{s.Key} {(s.Value.Down ? "down" : "up")} {s.Value.Allocated} held {s.Value.HeldCount(DateTimeOffset.UtcNow)}")));
        }
    }

    /// <summary>
    /// A rejoin is answered without a write, so a stale activation (on a silo that was paused while a new leader took
    /// over) could hand a server allocations the new leader counts elsewhere: the stored version must still be ours.
    /// </summary>
    private async Task EnsureCurrentAsync()
    {
        if (_writing) return;   // our own write decides: if it fails, this activation goes away
        var stored = new GrainState<PoolState>(new PoolState());
        await services.GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName).ReadStateAsync("pool", this.GetGrainId(), stored);
        if (_writing || stored.ETag == state.Etag) return;
        LogStale(Code);
        DeactivateOnIdle();
        throw new LicensingException(LicensingErrors.Unavailable, $"The leader of '{Code}' moved; retry.");
    }

    /// <summary>
    /// The distribution as last written, at the version written: a change in flight lands as a newer version, and a
    /// raise it makes is reported only once it is durable.
    /// </summary>
    private DistributionSync DurableSync()
    {
        var snapshot = Snapshot();
        var durable = snapshot with
        {
            Version = _committedVersion,
            Servers = [.. snapshot.Servers.Select(s => s with { Allocated = Math.Min(s.Allocated, _committed.GetValueOrDefault(s.ServerId)) })],
        };
        return new DistributionSync(durable, Table.ActiveAdoptions()) { ReturnedOfflineBorrows = OfflineBorrowBook.ReturnedLeases(S.OfflineBorrows) };
    }

    private async Task SendSyncAsync()
    {
        var sync = SyncFor();
        foreach (var (serverId, _) in S.Servers.Where(s => !s.Value.Down))
        {
            try
            {
                await GrainFactory.GetServerGrain(serverId, Code).ApplySync(sync);
            }
            catch (Exception e)
            {
                LogSyncFailed(e, Code, serverId);
            }
        }
    }

    private DistributionSync SyncFor() => new(Snapshot(), Table.ActiveAdoptions()) { ReturnedOfflineBorrows = OfflineBorrowBook.ReturnedLeases(S.OfflineBorrows) };

    private Distribution Snapshot() => Table.Snapshot(DateTimeOffset.UtcNow, LeaderServerId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Code} v{Version} committed: free {FreePool}; {Servers}")]
    private partial void LogCommitted(string code, long version, int freePool, string servers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: a leader turn failed (written: {Written}); its changes are undone")]
    private partial void LogTurnFailed(Exception e, string code, bool written);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: this leader activation is stale (another one wrote); it deactivates")]
    private partial void LogStale(string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: sync to {ServerId} failed")]
    private partial void LogSyncFailed(Exception e, string code, string serverId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Code}: writing the distribution failed; the leader restarts from storage")]
    private partial void LogWriteFailed(Exception e, string code);
}
