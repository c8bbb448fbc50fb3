using Orleans.Licensing.Usage;

namespace Orleans.Licensing;

/// <summary>What a <see cref="Borrower"/> needs of its server grain.</summary>
internal interface IBorrowingServer
{
    int Room { get; }

    int InUse { get; }

    long AppliedVersion { get; }

    bool AboveThreshold { get; }

    /// <summary>Allocations missing for <paramref name="wanted"/> more bound seats (see <see cref="SeatMath.Shortfall"/>).</summary>
    int Shortfall(int wanted);

    /// <summary>Applies the distribution a leader's answer carries; true when the record or the leases changed.</summary>
    bool Apply(DistributionSync sync);

    Task CommitAsync();
}

/// <summary>
/// A license server's calls to its leader (claims 2, 3, 31): one borrow at a time, shared by the callers that arrive
/// while it is in flight; a local denial while the leader's last answer was "no source" (<see cref="NoSourceVerdict"/>);
/// the early borrow when usage passes the threshold; the report of fail-over adoptions; retries with the same
/// operation id while the leader moves.
/// </summary>
internal sealed partial class Borrower(IBorrowingServer server, Func<IPoolGrain> leader, string serverId, string code, LicensingOptions options, IUsageRecorder usage, ILogger logger)
{
    private const int LeaderAttempts = 4;

    private Task<int>? _borrowing;
    private long _borrowsStarted;
    private long _borrowingNumber;
    private NoSourceVerdict? _noSource;

    public int Borrows { get; private set; }

    public int AdoptionCalls { get; private set; }

    /// <summary>
    /// Borrows enough for <paramref name="wanted"/> more allocations and to bring usage back within the threshold.
    /// Returns false only when a borrow that started after this caller arrived found no source (or, for a checkout,
    /// when the leader's last answer was "no source" and no newer distribution has arrived since).
    /// </summary>
    public async Task<bool> BorrowAsync(int wanted, BorrowReason reason)
    {
        var arrived = _borrowsStarted;
        while (_borrowing is { } inFlight)
        {
            var started = _borrowingNumber;
            var granted = await inFlight;
            if (started > arrived) return granted > 0 || server.Room >= wanted;
            if (server.Room >= wanted) return true;
        }

        if (reason == BorrowReason.ClientRequest && _noSource is { } verdict && verdict.IsCurrent(server.AppliedVersion, options.DenialHold)) return false;
        var count = server.Shortfall(wanted);
        if (count == 0) return true;
        count = Math.Max(count, options.MinBorrow);
        var number = ++_borrowsStarted;
        var borrow = RunBorrowAsync(count, reason);
        if (!borrow.IsCompleted)
        {
            _borrowing = borrow;
            _borrowingNumber = number;
        }

        return await borrow > 0;
    }

    /// <summary>Claim 3: borrow as soon as usage passes the threshold, without making the request that passed it wait.</summary>
    public void BorrowEarlyIfAboveThreshold()
    {
        if (_borrowing is not null || !server.AboveThreshold) return;
        _ = BorrowInBackgroundAsync();
    }

    private async Task BorrowInBackgroundAsync()
    {
        try
        {
            // Checkouts that came while a borrow was in flight did not start their own: look again after each one.
            for (var round = 0; round < 4 && server.AboveThreshold; round++)
            {
                if (!await BorrowAsync(0, BorrowReason.ClientRequest)) break;
            }
        }
        catch (Exception e)
        {
            LogBorrowFailed(e, serverId, code);
        }
    }

    private async Task<int> RunBorrowAsync(int count, BorrowReason reason)
    {
        try
        {
            return await BorrowFromLeaderAsync(count, reason);
        }
        finally
        {
            // Before waiters resume: they must see that no borrow is in flight any more.
            _borrowing = null;
        }
    }

    /// <summary>One borrow of <paramref name="count"/>, applied and committed here. Returns how many were granted.</summary>
    public async Task<int> BorrowFromLeaderAsync(int count, BorrowReason reason)
    {
        using var span = LicensingTelemetry.Borrow(code, count);
        var grant = await CallLeaderAsync(new BorrowRequest(Guid.NewGuid(), serverId, count, reason, server.InUse));
        usage.Borrowed(code, serverId, reason, grant.Sources);
        Borrows++;
        if (server.Apply(grant.Sync)) await server.CommitAsync();
        _noSource = grant.Granted == 0 ? new NoSourceVerdict(server.AppliedVersion, DateTimeOffset.UtcNow) : null;
        LogBorrowed(serverId, code, count, grant.Granted, reason);
        return grant.Granted;
    }

    /// <summary>
    /// Tells the leader of fail-over adoptions, borrowing what the adoptions in flight need beyond this server's room
    /// (and what keeps usage within the threshold) in the same call. The leader always hears of an adoption, so the
    /// origin server never counts the lease again, even when there is room here.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>?> ReportAdoptionsAsync(IReadOnlyList<AdoptedLease> adoptions)
    {
        var grant = await CallLeaderAsync(new BorrowRequest(Guid.NewGuid(), serverId, server.Shortfall(0), BorrowReason.FailoverUpdate, server.InUse, adoptions),
            until: adoptions.Max(a => a.ExpiresAt));
        AdoptionCalls++;
        usage.Borrowed(code, serverId, BorrowReason.FailoverUpdate, grant.Sources);
        server.Apply(grant.Sync);
        return grant.Refused;
    }

    /// <summary>
    /// Calls the leader, retrying with the same operation id while it moves to another silo: a few times, or, for a
    /// report of adoptions, until <paramref name="until"/>. The leader may have recorded those adoptions and moved their
    /// seats here before its answer was lost, and a retry answers what it did; giving up sooner would unbind seats that
    /// a client's lease still needs.
    /// </summary>
    private async Task<BorrowGrant> CallLeaderAsync(BorrowRequest request, DateTimeOffset? until = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await leader().Borrow(request);
            }
            catch (Exception e) when (until is { } deadline
                ? DateTimeOffset.UtcNow < deadline && (TransientFailures.Is(e) || e is LicensingException { Error: LicensingErrors.Unavailable })
                : attempt < LeaderAttempts && TransientFailures.Is(e))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * Math.Min(attempt, 5)));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{ServerId} asked the leader of {Code} for {Count} ({Reason}) and got {Granted}")]
    private partial void LogBorrowed(string serverId, string code, int count, int granted, BorrowReason reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{ServerId} could not borrow for {Code}")]
    public partial void LogBorrowFailed(Exception e, string serverId, string code);
}
