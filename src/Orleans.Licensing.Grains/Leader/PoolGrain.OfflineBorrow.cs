namespace Orleans.Licensing;

/// <summary>
/// Offline borrows at the leader (docs/admin/offline-borrow.md): the policy, the permit a server asks for before it
/// grants one, its release, and an early return whose server does not answer. Each change is one leader turn; the
/// arithmetic is <see cref="OfflineBorrowBook"/>.
/// </summary>
public sealed partial class PoolGrain
{
    async Task<Distribution> IPoolGrain.SetOfflineBorrowPolicy(SetOfflineBorrowPolicy message)
    {
        EnsureLicense();
        EnsureCode(message.Code);
        if (OfflineBorrowBook.Invalid(message.MaxCount, message.MaxDuration, S.Total) is { } why) throw Invalid(why);
        return await TurnAsync(async () =>
        {
            var policy = OfflineBorrowBook.SetPolicy(S.OfflineBorrows, message.MaxCount, message.MaxDuration, S.Total);
            await CommitAndSyncAsync();
            LogPolicySet(Code, policy.MaxCount, policy.MaxDuration, policy.Version);
            return Snapshot();
        });
    }

    async Task<OfflineBorrowPermitAnswer> IPoolGrain.PermitOfflineBorrow(OfflineBorrowPermitRequest request)
    {
        EnsureLicense();
        var (permit, isNew, denial) = OfflineBorrowBook.Decide(S.OfflineBorrows, request, DateTimeOffset.UtcNow);
        if (permit is null) return new OfflineBorrowPermitAnswer(null, denial);
        if (!isNew) return new OfflineBorrowPermitAnswer(permit.EndsAt);
        return await TurnAsync(async () =>
        {
            // Durable before the server grants: a permit lost with a leader would let MaxCount be passed.
            S.OfflineBorrows.Permits[request.LeaseId] = permit;
            await CommitAndSyncAsync();
            return new OfflineBorrowPermitAnswer(permit.EndsAt);
        });
    }

    async Task IPoolGrain.ReleaseOfflineBorrow(string leaseId, string serverId)
    {
        if (S.License is null || !S.OfflineBorrows.Permits.TryGetValue(leaseId, out var permit) || permit.ServerId != serverId) return;
        await TurnAsync(async () =>
        {
            if (OfflineBorrowBook.Release(S.OfflineBorrows, leaseId, serverId)) await CommitAndSyncAsync();
            return 0;
        });
    }

    async Task<bool> IPoolGrain.ReturnOfflineBorrow(string leaseId, string clientId, string serverId)
    {
        EnsureLicense();
        if (OfflineBorrowBook.Returnable(S.OfflineBorrows, leaseId, clientId, serverId, DateTimeOffset.UtcNow) is null) return false;
        var outcome = await TurnAsync(async () =>
        {
            // The caller could not reach the lease's server: it is fenced first (it may be paused, not dead), so that it
            // can serve the lease no more; then the seat held for the lease is free and the permit counts no more.
            var share = Table.Share(serverId);
            if (!share.Down && !await _fencing.FenceAsync(serverId, share, S.Adoptions, S.OfflineBorrows)) _fencing.MarkUnread(serverId, share);
            var returned = !share.Unread && OfflineBorrowBook.Returnable(S.OfflineBorrows, leaseId, clientId, serverId, DateTimeOffset.UtcNow) is not null;
            if (returned)
            {
                share.Held.Remove(leaseId);
                OfflineBorrowBook.MarkReturned(S.OfflineBorrows, leaseId);
                LogReturnedAtLeader(Code, leaseId, serverId);
            }

            // The fence read its journal: a permit whose lease it never wrote went with it (nothing to return).
            await CommitAndSyncAsync();
            return share.Unread ? (bool?)null : returned;
        });
        return outcome ?? throw new LicensingException(LicensingErrors.Unavailable, $"Server '{serverId}' of '{Code}' neither answers nor can be fenced; retry the return.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: offline borrow policy v{Version}: at most {MaxCount} seats, each for at most {MaxDuration}")]
    private partial void LogPolicySet(string code, int maxCount, TimeSpan maxDuration, long version);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: offline borrow {LeaseId} of down server {ServerId} returned at the leader")]
    private partial void LogReturnedAtLeader(string code, string leaseId, string serverId);
}
