namespace Orleans.Licensing.Server.Api;

/// <summary>
/// Who holds what, and releasing a seat by hand (lmstat / lmremove, rlmstat / rlmremove): the lease list of a code
/// across the pool, and the release of one lease at the server that holds it. REST and the public contract
/// (<see cref="LicensingApiGrain"/>) both come here after their role checks.
/// </summary>
public sealed class LeaseAdmin(IGrainFactory grains, PoolGateway pool)
{
    /// <summary>How long one server may take to answer a release before the answer is "unavailable, retry".</summary>
    private static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Every live lease of a code at the servers that are up (<c>active</c>), and the leases the leader holds seats for
    /// while their server is down (<c>held-for-failover</c>, with that server's id).
    /// </summary>
    public async Task<IReadOnlyList<LeaseSummary>> GetLeasesAsync(string code)
    {
        Validate.Code(code);
        var distribution = await pool.EnsureKnownAsync(code);
        var views = await Task.WhenAll(distribution.Servers.Where(s => s.Status == ServerStatus.Up)
            .Select(s => grains.GetServerGrain(s.ServerId, code).GetView()));
        var held = distribution.Servers.Any(s => s.Status == ServerStatus.Down) ? await grains.GetGrain<IPoolGrain>(code).GetHeldLeases() : [];
        var now = DateTimeOffset.UtcNow;
        return [.. views.SelectMany(v => v.Leases).Where(l => l.ExpiresAt > now).Select(LeaseSummary.From)
            .Concat(held.Select(LeaseSummary.From))
            .OrderBy(l => l.LeaseId, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Releases a lease on <paramref name="actor"/>'s behalf at the server that holds it: every server that is up is
    /// asked, and at most one holds the lease (no lease is counted at two servers). A lease whose server is down is
    /// refused <c>lease-held</c> (409): the leader keeps its seat for the client's fail-over, and freeing it while that
    /// server may only be cut off could issue the seat twice. A server that does not answer makes it <c>unavailable</c>
    /// (503, retry): the lease may be there.
    /// </summary>
    public async Task<LeaseSummary> ReleaseAsync(string code, string leaseId, string actor, string? reason)
    {
        Validate.Code(code);
        Validate.LeaseId(leaseId);
        reason = Validate.Reason(reason);
        var distribution = await pool.EnsureKnownAsync(code);
        if (distribution.Servers.Any(s => s.Status == ServerStatus.Down)
            && (await grains.GetGrain<IPoolGrain>(code).GetHeldLeases()).FirstOrDefault(h => h.LeaseId == leaseId) is { } held)
        {
            throw new LicensingException(LicensingErrors.LeaseHeld,
                $"Lease '{leaseId}' belongs to server '{held.ServerId}', which is down: the leader holds its seat until {held.HeldUntil:O} so that its client can fail over. Release it once it is adopted (licensing leases shows where), or let the hold end.");
        }

        var message = new ReleaseLease(leaseId, actor, reason);
        var answers = await Task.WhenAll(distribution.Servers.Where(s => s.Status == ServerStatus.Up).Select(s => AskAsync(s.ServerId, code, message)));
        if (answers.FirstOrDefault(a => a.Lease is not null).Lease is { } released) return LeaseSummary.From(released) with { State = LeaseStates.Released };
        if (answers.Select(a => a.Error).OfType<LicensingException>().FirstOrDefault(e => e.Error == LicensingErrors.LeaseReleased) is { } again) throw again;
        if (answers.FirstOrDefault(a => a.Error is not null) is { Error: { } failed } silent)
        {
            if (!IsUnavailable(failed)) throw failed;
            throw new LicensingException(LicensingErrors.Unavailable, $"Server '{silent.ServerId}' did not answer; it may hold lease '{leaseId}'. Retry.");
        }

        throw new LicensingException(LicensingErrors.LeaseUnknown, $"No server holds lease '{leaseId}' of '{code}': it expired, was checked in, or never existed.");
    }

    private async Task<(string ServerId, Lease? Lease, Exception? Error)> AskAsync(string serverId, string code, ReleaseLease message)
    {
        try
        {
            return (serverId, await grains.GetServerGrain(serverId, code).Release(message).WaitAsync(ServerTimeout), null);
        }
        catch (Exception e)
        {
            return (serverId, null, e);
        }
    }

    private static bool IsUnavailable(Exception e) => TransientFailures.Is(e) || e is LicensingException { Error: LicensingErrors.Unavailable };
}
