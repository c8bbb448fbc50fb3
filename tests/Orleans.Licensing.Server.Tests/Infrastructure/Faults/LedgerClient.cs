using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Server.Tests.Infrastructure.Faults;

/// <summary>How the clients behave: how many, how many seats each asks for, how long they hold and wait.</summary>
public sealed record FaultLoad(int Seats, int Clients, int DoubleEvery, TimeSpan HoldMin, TimeSpan HoldMax, TimeSpan PauseMin, TimeSpan PauseMax, int Seed)
{
    /// <summary>
    /// 30 clients on 20 seats, every fourth asking for 2: demand well above the seats, as at a real peak. Holds of
    /// several renewal periods, so that a fault finds many leases to fail over.
    /// </summary>
    public static FaultLoad FullPool(int seed = 1) =>
        new(20, 30, 4, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(12), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(1500), seed);
}

/// <summary>
/// One protected application: the real SDK with all three server URLs (its own first), looping checkout, hold (the
/// SDK heartbeats and fails over), check-in, pause. Denials are normal. Everything it was told goes to the ledger.
/// </summary>
public sealed class LedgerClient : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly LicensingClient _client;
    private readonly LeaseLedger _ledger;
    private readonly FaultLoad _load;
    private readonly Random _random;
    private readonly string _code;

    public LedgerClient(string clientId, int count, string code, IReadOnlyList<Uri> servers, LeaseLedger ledger, Func<Uri, string> serverOf, FaultLoad load, Random random)
    {
        ClientId = clientId;
        Count = count;
        _code = code;
        _ledger = ledger;
        _load = load;
        _random = random;
        var services = new ServiceCollection().AddLogging();
        services.AddLicensingClient(o =>
        {
            o.Servers = [.. servers];
            o.ClientId = clientId;
            o.ApiKey = TestSecurity.ClientKey;
            // A paused server costs one attempt, not two: the renewal (a third into the TTL) still reaches the next
            // server well before the lease runs out.
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
            o.RetriesPerServer = 0;
            o.RetryDelay = TimeSpan.FromMilliseconds(250);
        }).AddHttpMessageHandler(() => new WireObserver(ledger, serverOf));
        _services = services.BuildServiceProvider();
        _client = _services.GetRequiredService<LicensingClient>();
    }

    public string ClientId { get; }

    public int Count { get; }

    /// <summary>The lease held when the churn stopped, if any.</summary>
    public (LicenseLease Lease, LeaseRecord Record)? Held { get; private set; }

    public ConcurrentDictionary<string, int> Checkouts { get; } = new();

    public async Task RunAsync(CancellationToken churn)
    {
        while (!churn.IsCancellationRequested)
        {
            LicenseLease lease;
            try
            {
                lease = await _client.AcquireAsync(_code, Count, churn);
            }
            catch (OperationCanceledException) when (churn.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is LicensingProblemException or LicensingUnavailableException)
            {
                Checkouts.AddOrUpdate(e is LicensingProblemException p ? p.Error : "unavailable", 1, (_, n) => n + 1);
                if (!await PauseAsync(churn)) return;
                continue;
            }

            var record = _ledger.CheckedOut(ClientId, lease.Current, _ledger.Now);
            Checkouts.AddOrUpdate("granted", 1, (_, n) => n + 1);
            var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lease.Renewed += (_, e) =>
            {
                var at = _ledger.Now;
                record.Acknowledged(at, _ledger.Until(e.Lease.ExpiresAt, at), e.Lease.ServerId, e.FailedOver);
            };
            lease.Lost += (_, e) =>
            {
                record.MarkLost(_ledger.Now, e.Error);
                lost.TrySetResult();
            };

            var hold = Between(_load.HoldMin, _load.HoldMax);
            await Task.WhenAny(Task.Delay(hold, churn), lost.Task);
            if (churn.IsCancellationRequested && !lease.IsLost)
            {
                Held = (lease, record);
                return;
            }

            await CheckinAsync(lease, record);
            if (!await PauseAsync(churn)) return;
        }
    }

    /// <summary>Checks the held lease in (after the pool settled).</summary>
    public async Task CheckinHeldAsync()
    {
        if (Held is not { } held) return;
        Held = null;
        await CheckinAsync(held.Lease, held.Record);
    }

    private async Task CheckinAsync(LicenseLease lease, LeaseRecord record)
    {
        if (!lease.IsLost) record.CheckinSent(_ledger.Now);
        await lease.DisposeAsync();   // stops the heartbeats, then checks in (nothing to check in when lost)
    }

    private async Task<bool> PauseAsync(CancellationToken churn)
    {
        try
        {
            await Task.Delay(Between(_load.PauseMin, _load.PauseMax), churn);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private TimeSpan Between(TimeSpan min, TimeSpan max)
    {
        lock (_random) return min + (max - min) * _random.NextDouble();
    }

    public async ValueTask DisposeAsync()
    {
        if (Held is { } held) await held.Lease.DisposeAsync();
        await _services.DisposeAsync();
    }
}
