using Microsoft.Extensions.Logging;

namespace Orleans.Licensing.Client;

/// <summary>
/// A lease the application holds. It renews itself at <see cref="LeaseInfo.RenewAfter"/>; when its server stops
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
    private int _disposed;

    internal LicenseLease(LicensingClient client, LeaseInfo lease, Uri server)
    {
        _client = client;
        _lease = lease;
        _server = server;
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

    public DateTimeOffset ExpiresAt => Current.ExpiresAt;

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
                var wait = Current.RenewAfter - _client.Time.GetUtcNow();
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _client.Time, stop);
                var before = Current;
                var (renewed, server) = await _client.RenewAsync(before, Server, stop);
                var failedOver = renewed.ServerId != before.ServerId;
                lock (_gate)
                {
                    _lease = renewed;
                    _server = server;
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
                if (_client.Time.GetUtcNow() >= Current.ExpiresAt)
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
