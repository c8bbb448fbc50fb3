using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>REST reads and invariant checks of a pool, through the SDK's admin calls.</summary>
public static class PoolChecks
{
    /// <summary>The conservation invariant (docs/safety.md): Σ allocated over servers + free pool = total.</summary>
    public static bool TotalHolds(LicenseInfo license) => license.Servers.Sum(s => s.Allocated) + license.FreePool == license.Seats;

    public static void AssertTotal(LicenseInfo license) =>
        Assert.True(TotalHolds(license), $"Σ allocated + free pool ≠ seats: {Describe(license)}");

    public static int InUse(LicenseInfo license) => license.Servers.Sum(s => s.InUse);

    public static ServerShareInfo Row(LicenseInfo license, string serverId) => license.Servers.Single(s => s.ServerId == serverId);

    public static string Describe(LicenseInfo l) =>
        $"{l.Code} seats {l.Seats} free {l.FreePool} v{l.Version} leader {l.Leader}: " +
        string.Join("; ", l.Servers.Select(s => $"{s.ServerId} {s.Status} alloc {s.Allocated} inUse {s.InUse} held {s.Held} base {s.BaseShare}"));

    /// <summary>Polls GET /api/v1/servers (through live servers) until <paramref name="serverId"/> is no longer Active.</summary>
    public static async Task<TimeSpan> DeclaredDeadAsync(LicensingClient admin, string serverId, Stopwatch since, TimeSpan timeout)
    {
        await Until.TrueAsync(async () =>
        {
            try
            {
                var servers = await admin.GetServersAsync();
                return servers.SingleOrDefault(s => s.ServerId == serverId) is not { Status: "Active" };
            }
            catch (LicensingUnavailableException)
            {
                return false;
            }
        }, timeout, $"membership to declare {serverId} dead");
        return since.Elapsed;
    }

    public static async Task<LicenseInfo> LicenseWhenAsync(LicensingClient admin, string code, Func<LicenseInfo, bool> accept, TimeSpan timeout, string what)
    {
        LicenseInfo? last = null;
        try
        {
            await Until.TrueAsync(async () =>
            {
                try
                {
                    last = await admin.GetLicenseAsync(code);
                    return accept(last);
                }
                catch (LicensingUnavailableException)
                {
                    return false;
                }
            }, timeout, what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Last: {(last is null ? "none" : Describe(last))}");
        }

        return last!;
    }

    /// <summary>
    /// Checks out single allocations at every given server (a client pinned to each) until a whole round is denied
    /// everywhere: returns the leases granted. The pool must grant exactly what is free, no more, no less.
    /// </summary>
    public static async Task<List<(LeaseInfo Lease, LicensingClient Client)>> FillAsync(
        string code, IReadOnlyList<ServerProcess> servers, SeatLedger ledger, Func<ServiceProvider, ServiceProvider> track)
    {
        var clients = servers.Select(s =>
        {
            return track(PostgresPoolFixture.ClientServices([s.Url], $"fill-{s.ServerId}")).GetRequiredService<LicensingClient>();
        }).ToList();
        var granted = new List<(LeaseInfo, LicensingClient)>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        bool any;
        do
        {
            any = false;
            foreach (var client in clients)
            {
                while (true)
                {
                    try
                    {
                        var lease = await client.CheckoutAsync(code, 1);
                        ledger.Granted(lease.LeaseId, lease.Count);
                        granted.Add((lease, client));
                        any = true;
                        break;
                    }
                    catch (LicensingProblemException e) when (e.Error == "no-allocation")
                    {
                        break;
                    }
                    catch (LicensingUnavailableException) when (DateTime.UtcNow < deadline)
                    {
                        // This server could not reach the pool right now; it is asked again (a retry, not a wait).
                        await Task.Delay(200);
                    }
                }
            }
        }
        while (any);

        return granted;
    }
}

/// <summary>
/// Keeps bare leases (from <see cref="PoolChecks.FillAsync"/>) alive the way an SDK lease keeps itself alive: a heartbeat
/// at its server every third of the TTL. Without it they expire during a step longer than one TTL (a server restart)
/// while the ledger still counts them. Records every renewal that was refused.
/// </summary>
public sealed class FilledRenewal : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<string> _refused = [];

    public FilledRenewal(string code, IReadOnlyList<(LeaseInfo Lease, LicensingClient Client)> filled, TimeSpan ttl)
    {
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(ttl / 3);
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token))
                {
                    foreach (var (lease, client) in filled)
                    {
                        try
                        {
                            await client.HeartbeatAsync(code, lease.LeaseId, lease.Count, lease.ServerId, lease.ClientId, _stop.Token);
                        }
                        catch (LicensingProblemException e)
                        {
                            lock (_refused) _refused.Add($"{lease.LeaseId}: {e.Error}");
                        }
                        catch (LicensingUnavailableException)
                        {
                            // Its server did not answer this time; the next tick tries again, well within the TTL.
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        });
    }

    /// <summary>Renewals the pool refused: a bare lease it dropped while a client still held it.</summary>
    public IReadOnlyList<string> Refused
    {
        get { lock (_refused) return [.. _refused]; }
    }

    /// <summary>Stops renewing; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync();
        await _loop;
    }
}

/// <summary>
/// Polls the license view in the background and records every sample in which the conservation invariant does not hold, so that a
/// transient violation between two test steps is caught too.
/// </summary>
public sealed class InvariantMonitor : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<string> _violations = [];

    public InvariantMonitor(LicensingClient admin, params string[] codes)
    {
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                foreach (var code in codes)
                {
                    try
                    {
                        var license = await admin.GetLicenseAsync(code, _stop.Token);
                        Samples++;
                        if (!PoolChecks.TotalHolds(license)) lock (_violations) _violations.Add(PoolChecks.Describe(license));
                    }
                    catch (Exception e) when (e is LicensingUnavailableException or LicensingProblemException or OperationCanceledException or HttpRequestException)
                    {
                    }
                }

                try
                {
                    await Task.Delay(200, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    public int Samples { get; private set; }

    public IReadOnlyList<string> Violations
    {
        get { lock (_violations) return [.. _violations]; }
    }

    public async Task AssertNoViolationAsync()
    {
        await DisposeAsync();
        Assert.True(Samples > 0, "the invariant monitor took no sample");
        lock (_violations) Assert.True(_violations.Count == 0, "Σ allocated + free pool ≠ seats in: " + string.Join(" | ", _violations));
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync();
        await _loop;
    }
}
