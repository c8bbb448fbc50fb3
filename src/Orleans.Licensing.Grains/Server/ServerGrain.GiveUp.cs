using Orleans.Licensing.Usage;

namespace Orleans.Licensing;

/// <summary>How a server gives allocations up when the leader asks (the giver-first rule, docs/safety.md).</summary>
public sealed partial class ServerGrain
{
    async Task<GiveUpResult> IServerGrain.GiveUp(GiveUpRequest request)
    {
        ThrowIfBroken();
        if (Record.RecentGiveUps.FirstOrDefault(t => t.OperationId == request.OperationId) is { } done) return done;

        var allocated = SyncRule.AllocatedForGiveUp(request, Record.Allocated, Record.AppliedVersion);
        var now = DateTimeOffset.UtcNow;
        var (given, unknown, moved) = request.Mode == GiveUpMode.Leases
            ? DropMoved(request.Leases ?? [], allocated, now)
            : (SeatMath.Givable(request.Mode, allocated, Bound, Record.Threshold, Record.BaseShare, request.Count), [], []);
        var result = new GiveUpResult(request.OperationId, given, _leases.InUse, unknown);

        // Nothing given changes nothing: no write, and no version the leader may never commit.
        if (given == 0) return result;
        _record = Record with
        {
            Allocated = allocated - given,
            AppliedVersion = SyncRule.VersionAfterGiveUp(Record.AppliedVersion, request),
            RecentGiveUps = [.. Record.RecentGiveUps.TakeLast(RecentGiveUpsKept - 1), result],
            MovedAway = moved.Count > 0 ? MovedAway.Add(Record.MovedAway, moved, now + _options.LeaseTtl, now) : Record.MovedAway,
        };

        // The giver's record shrinks, durably, before the leader lets the taker grow (claim 33).
        await CommitAsync();
        _usage.Pool(UsageKinds.GiveUp, _code, _serverId, given, request.Mode.ToString());
        return result;
    }

    /// <summary>
    /// Drops the leases whose clients failed over elsewhere, if they are what the clients claim; returns their seats. A
    /// claim is judged as of its arrival at the adopter, not of now: it may have waited behind a slow leader turn, and a
    /// lease that was live then stays its client's. One that expired here meanwhile gives no seat (its seat was freed
    /// at expiry), and the adopter borrows one.
    /// </summary>
    private (int Given, IReadOnlyList<string> Unknown, IReadOnlyList<string> Moved) DropMoved(IReadOnlyList<AdoptedLease> claims, int allocated, DateTimeOffset now)
    {
        var given = 0;
        var unknown = new List<string>();
        var moved = new List<string>();
        foreach (var claim in claims)
        {
            var arrived = claim.ExpiresAt - _options.LeaseTtl;
            if (_leases.TryGet(claim.LeaseId, out var lease) && Claims(lease, claim, arrived))
            {
                _leases.Remove(lease.LeaseId);
                moved.Add(lease.LeaseId);
                given += lease.Count;
            }
            else if (_expired.TryGetValue(claim.LeaseId, out var gone) && Claims(gone, claim, arrived))
            {
                _expired.Remove(claim.LeaseId);
                moved.Add(claim.LeaseId);
            }
            else if (MovedAway.Contains(Record.MovedAway, claim.LeaseId, now))
            {
                // Dropped by a give-up whose answer a newer row voided: the row gave its seat back to us; it goes with
                // the lease as far as it is still unused here.
                moved.Add(claim.LeaseId);
                given += Math.Clamp(allocated - _leases.InUse - given, 0, claim.Count);
            }
            else
            {
                unknown.Add(claim.LeaseId);
            }
        }

        return (given, unknown, moved);
    }

    private static bool Claims(LeaseRecord lease, AdoptedLease claim, DateTimeOffset arrived) =>
        lease.ClientId == claim.ClientId && lease.Count == claim.Count && lease.ExpiresAt > arrived;
}
