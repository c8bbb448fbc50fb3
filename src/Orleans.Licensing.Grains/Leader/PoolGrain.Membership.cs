namespace Orleans.Licensing;

/// <summary>
/// Which servers the leader counts as functioning. Silo membership marks servers up or down; a server that goes down
/// is fenced (<see cref="Fencing"/>) and stays down until it rejoins through the leader.
/// </summary>
public sealed partial class PoolGrain
{
    private readonly Dictionary<string, DateTimeOffset> _poked = new(StringComparer.Ordinal);

    /// <summary>Applies membership to the table. Returns whether the table changed.</summary>
    private async Task<bool> RefreshStatusAsync()
    {
        var snapshot = membership.CurrentSnapshot;
        var changed = false;
        foreach (var member in snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active && !string.IsNullOrEmpty(m.Name)))
        {
            if (!S.Servers.ContainsKey(member.Name))
            {
                Table.Share(member.Name);
                changed = true;
            }
        }

        foreach (var (serverId, share) in S.Servers)
        {
            if (share.Down && share.Unread)
            {
                changed |= await _fencing.FenceAsync(serverId, share, S.Adoptions, S.OfflineBorrows);
                continue;
            }

            if (share.Fenced)
            {
                PokeIfActive(snapshot, serverId);
                continue;
            }

            var up = IsUp(snapshot, serverId, share);
            if (up == !share.Down) continue;
            changed = true;
            if (up)
            {
                share.Down = false;
                share.Held.Clear();
                LogServerUp(Code, serverId);
            }
            else if (!await _fencing.FenceAsync(serverId, share, S.Adoptions, S.OfflineBorrows))
            {
                _fencing.MarkUnread(serverId, share);
            }
        }

        Table.Prune(DateTimeOffset.UtcNow);
        return changed;
    }

    /// <summary>
    /// A fenced server whose silo is active (it was paused, or restarted) serves again once its grain reloads and
    /// rejoins: a message makes a stale activation fail its next write, or a fresh one activate and rejoin.
    /// </summary>
    private void PokeIfActive(ClusterMembershipSnapshot snapshot, string serverId)
    {
        var now = DateTimeOffset.UtcNow;
        if (_poked.TryGetValue(serverId, out var last) && now - last < TimeSpan.FromSeconds(2)) return;
        if (!snapshot.Members.Values.Any(m => m.Name == serverId && m.Status == SiloStatus.Active)) return;
        _poked[serverId] = now;
        _ = GrainFactory.GetServerGrain(serverId, Code).ApplySync(DurableSync());
    }

    private static bool IsUp(ClusterMembershipSnapshot snapshot, string serverId, ShareState share)
    {
        if (snapshot.Members.Values.Any(m => m.Name == serverId && m.Status == SiloStatus.Active))
        {
            share.RejoinedFrom = null;
            return true;
        }

        // Rejoined, but membership here has not caught up with that silo yet.
        return share.RejoinedFrom is { } address
            && snapshot.GetSiloStatus(SiloAddress.FromParsableString(address)) is not (SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: server {ServerId} is up")]
    private partial void LogServerUp(string code, string serverId);
}
