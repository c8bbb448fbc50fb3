using Microsoft.Extensions.Logging;

namespace Orleans.Licensing.Client;

/// <summary>
/// A lease the application holds. It renews itself when <see cref="LeaseInfo.RenewAfterSeconds"/> have passed on this
/// process' monotonic clock since the request that got the lease was sent, so a wall clock that is off does not
/// matter (<see cref="LeaseInfo.RenewAfter"/> only from a server too old to send durations); when its server stops
/// answering it sends the update to the next server (fail-over mode), which adopts the lease with the same id and
/// count. <see cref="Lost"/> fires only when the pool refuses the lease or no server answered before it expired.
/// <see cref="DisposeAsync"/> checks it in.
/// </summary>
public sealed partial class LicenseLease : IAsyncDisposable
{
    private readonly LicensingClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewals;
    private readonly Lock _gate = new();
    private LeaseInfo _lease;
    private Uri _server;
    private long _sentAt;
    private int _disposed;

    /// <param name="sentAt">When the request that got <paramref name="lease"/> was sent (<see cref="TimeProvider.GetTimestamp"/>).</param>
    internal LicenseLease(LicensingClient client, LeaseInfo lease, Uri server, long sentAt)
    {
        _client = client;
        _lease = lease;
        _server = server;
        _sentAt = sentAt;
        _renewals = Task.Run(() => RenewLoopAsync(_stop.Token));
    }

    /// <summary>After each successful heartbeat; <see cref="LeaseRenewedEventArgs.FailedOver"/> when another server adopted it.</summary>
    public event EventHandler<LeaseRenewedEventArgs>? Renewed;

    /// <summary>The lease is truly lost: the application no longer holds its allocations.</summary>
    public event EventHandler<LeaseLostEventArgs>? Lost;

    public LeaseInfo Current { get { lock (_gate) return _lease; } }

    public string LeaseId => Current.LeaseId;

    public string Code => Current.Code;

    public int Count => Current.Count;

    /// <summary>The license server that holds the lease now.</summary>
    public string ServerId => Current.ServerId;

    /// <summary>The URL of the server this lease talks to now.</summary>
    public Uri Server { get { lock (_gate) return _server; } }

    /// <summary>The server's expiry time, by the server's clock (for display: compare <see cref="TimeToLive"/>, not this, with now).</summary>
    public DateTimeOffset ExpiresAt => Current.ExpiresAt;

    /// <summary>How long the lease is still valid, by this process' monotonic clock (zero once expired).</summary>
    public TimeSpan TimeToLive
    {
        get
        {
            var left = Remaining(l => l.TtlSeconds, l => l.ExpiresAt);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>
    /// Time left until a moment of the current lease: its duration counted from when the request was sent (the server
    /// started counting after that, so this errs early), or, from an older server, its absolute time by the wall clock.
    /// </summary>
    private TimeSpan Remaining(Func<LeaseInfo, double?> seconds, Func<LeaseInfo, DateTimeOffset> at)
    {
        LeaseInfo lease;
        long sentAt;
        lock (_gate) (lease, sentAt) = (_lease, _sentAt);
        return seconds(lease) is { } s
            ? TimeSpan.FromSeconds(s) - _client.Time.GetElapsedTime(sentAt)
            : at(lease) - _client.Time.GetUtcNow();
    }

    public bool IsLost { get; private set; }

    public int Renewals { get; private set; }

    public int FailOvers { get; private set; }

    private async Task RenewLoopAsync(CancellationToken stop)
    {
        var options = _client.Options;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var wait = Remaining(l => l.RenewAfterSeconds, l => l.RenewAfter);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _client.Time, stop);
                var before = Current;
                var sent = _client.Time.GetTimestamp();
                var (renewed, server) = await _client.RenewAsync(before, Server, () => TimeToLive, stop);
                var failedOver = renewed.ServerId != before.ServerId;
                lock (_gate)
                {
                    _lease = renewed;
                    _server = server;
                    _sentAt = sent;
                }

                Renewals++;
                if (failedOver)
                {
                    FailOvers++;
                    LogFailedOver(renewed.LeaseId, before.ServerId, renewed.ServerId);
                }

                Raise(Renewed, new LeaseRenewedEventArgs(renewed, failedOver));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (LicensingProblemException e)
            {
                MarkLost(e.Error, e.Message);
                return;
            }
            catch (LicensingUnavailableException e)
            {
                if (TimeToLive <= TimeSpan.Zero)
                {
                    MarkLost("unreachable", $"No license server answered before the lease expired: {e.Message}");
                    return;
                }

                try
                {
                    await Task.Delay(options.RetryDelay, _client.Time, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void MarkLost(string error, string reason)
    {
        IsLost = true;
        LogLost(Current.LeaseId, Current.Code, error, reason);
        Raise(Lost, new LeaseLostEventArgs(Current, error, reason));
    }

    private void Raise<T>(EventHandler<T>? handler, T args)
    {
        try
        {
            handler?.Invoke(this, args);
        }
        catch (Exception e)
        {
            // An application's handler must not stop the renewals.
            LogHandlerFailed(e);
        }
    }

    /// <summary>Stops renewing and checks the lease in (at its server, or any server that forwards it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync();
        await _renewals;
        _stop.Dispose();
        if (IsLost) return;
        try
        {
            await _client.CheckinAtAsync(Current, Server, CancellationToken.None);
        }
        catch (LicensingProblemException e) when (e.Error == "lease-unknown")
        {
            // Already gone (expired); nothing is held.
        }
        catch (Exception e) when (e is LicensingProblemException or LicensingUnavailableException)
        {
            LogCheckinFailed(e, Current.LeaseId);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lease {LeaseId} failed over from {From} to {To}")]
    private partial void LogFailedOver(string leaseId, string from, string to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lease {LeaseId} of {Code} is lost ({Error}): {Reason}")]
    private partial void LogLost(string leaseId, string code, string error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A lease event handler threw")]
    private partial void LogHandlerFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking lease {LeaseId} in failed; it expires on its own")]
    private partial void LogCheckinFailed(Exception e, string leaseId);

    private ILogger Logger => _client.Logger;
}

public sealed class LeaseRenewedEventArgs(LeaseInfo lease, bool failedOver) : EventArgs
{
    public LeaseInfo Lease { get; } = lease;

    /// <summary>Another server adopted the lease in this renewal (fail-over mode).</summary>
    public bool FailedOver { get; } = failedOver;
}

public sealed class LeaseLostEventArgs(LeaseInfo lease, string error, string reason) : EventArgs
{
    public LeaseInfo Lease { get; } = lease;

    /// <summary>The server's error code (e.g. <c>no-allocation</c>, <c>lease-unknown</c>) or <c>unreachable</c>.</summary>
    public string Error { get; } = error;

    public string Reason { get; } = reason;
}
