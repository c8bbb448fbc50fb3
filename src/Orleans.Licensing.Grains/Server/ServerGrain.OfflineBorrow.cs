using Orleans.Licensing.Usage;

namespace Orleans.Licensing;

/// <summary>
/// Offline borrows at a server (docs/admin/offline-borrow.md): a checkout with a duration asks the leader for a permit
/// first (the pool-wide count), is held until its end without heartbeats, and releases the permit when it is checked in
/// or not granted. One returned at the leader while this server was down is dropped when the sync says so.
/// </summary>
public sealed partial class ServerGrain
{
    /// <summary>The borrow's end on the leader's clock, or the denial; (null, null) for an ordinary checkout.</summary>
    private async Task<(DateTimeOffset? End, CheckoutResult? Refused)> PermitOfflineBorrowAsync(CheckoutRequest request)
    {
        if (request.BorrowFor is not { } duration) return (null, null);
        var answer = await Leader.PermitOfflineBorrow(new OfflineBorrowPermitRequest(request.LeaseId, _serverId, request.ClientId, request.Count, duration));
        if (answer.EndsAt is { } end) return (end, null);
        _usage.Denial(_code, _serverId, request.ClientId, request.Count, LicensingErrors.BorrowLimit);
        return (null, new CheckoutResult(null, answer.Denial ?? $"The offline borrow policy of '{_code}' refuses this borrow.", LicensingErrors.BorrowLimit));
    }

    /// <summary>
    /// Gives the permit back (the borrow was not granted, or was checked in). A failure only leaves the permit counted
    /// until the borrow's end or until the leader fences this server: it blocks borrows, never seats.
    /// </summary>
    private async Task ReleaseOfflineBorrowAsync(string leaseId, DateTimeOffset? borrowEnd)
    {
        if (borrowEnd is null) return;
        try
        {
            await Leader.ReleaseOfflineBorrow(leaseId, _serverId);
        }
        catch (Exception e)
        {
            LogPermitNotReleased(e, _serverId, leaseId, _code);
        }
    }

    /// <summary>Offline borrows the leader returned while this server was down: their seats are counted elsewhere now.</summary>
    private bool DropReturnedOfflineBorrows(IReadOnlyList<string>? returned)
    {
        var dropped = false;
        foreach (var leaseId in returned ?? [])
        {
            if (!_leases.TryGet(leaseId, out var lease) || !lease.Borrowed) continue;
            _leases.Remove(leaseId);
            _usage.Lease(UsageKinds.Checkin, _code, _serverId, lease.LeaseId, lease.ClientId, lease.Count, "offline borrow returned at the leader");
            dropped = true;
        }

        return dropped;
    }

    private static string? OfflineBorrowDetail(LeaseRecord lease) => lease.Borrowed ? $"offline borrow until {lease.ExpiresAt:O}" : null;

    async Task<Distribution> IServerGrain.SetOfflineBorrowPolicy(SetOfflineBorrowPolicy message) =>
        await Leader.SetOfflineBorrowPolicy(message);

    // The code's linger as the last sync gave it (0 until the first sync of this activation).
    private TimeSpan _linger;

    async Task<Distribution> IServerGrain.SetLinger(SetLinger message) => await Leader.SetLinger(message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ServerId} could not release the offline borrow permit of {LeaseId} ({Code}); it counts until the borrow's end")]
    private partial void LogPermitNotReleased(Exception e, string serverId, string leaseId, string code);
}
