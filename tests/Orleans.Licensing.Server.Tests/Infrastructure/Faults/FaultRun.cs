using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;
using Xunit.Abstractions;
using static Orleans.Licensing.Server.Tests.Infrastructure.PoolChecks;

namespace Orleans.Licensing.Server.Tests.Infrastructure.Faults;

/// <summary>
/// One fault scenario on the three server processes: a fresh license code, a fleet of ledger clients churning on it,
/// the supervisor for faults; <see cref="FinishAsync"/> stops the faults, lets the pool settle and asserts the
/// client-side invariants: (a) never more seats held than the license code grants, (b) no in-time update refused,
/// (c) the table adds up and every held lease is at exactly its server.
/// </summary>
public sealed class FaultRun : IAsyncDisposable
{
    private static readonly TimeSpan ServingTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);
    private readonly PostgresPoolFixture _pool;
    private readonly ITestOutputHelper _output;
    private readonly string _name;
    private readonly ServiceProvider _adminServices;
    private readonly List<string> _timeline = [];
    private readonly List<string> _failures = [];
    private readonly List<LedgerClient> _clients = [];
    private readonly CancellationTokenSource _churn = new();
    private readonly Dictionary<string, int> _logStart;
    private List<Task> _loops = [];
    private InvariantMonitor? _monitor;

    private FaultRun(PostgresPoolFixture pool, ITestOutputHelper output, FaultLoad load, string name)
    {
        _pool = pool;
        _output = output;
        _name = name;
        Load = load;
        Code = PoolFixture.NewCode("FLT");
        _logStart = pool.Servers.ToDictionary(s => s.ServerId, s => s.Log.Length);
        Servers = new ServerSupervisor(pool, Note);
        _adminServices = PostgresPoolFixture.ClientServices([.. pool.Servers.Select(s => s.Url)], "fault-admin", TestRole.Admin);
        Admin = _adminServices.GetRequiredService<LicensingClient>();
    }

    public FaultLoad Load { get; }

    public string Code { get; }

    public string ClusterId => _pool.ClusterId;

    public LeaseLedger Ledger { get; } = new();

    public ServerSupervisor Servers { get; }

    public LicensingClient Admin { get; }

    public ServerProcess this[string serverId] => _pool[serverId];

    public static async Task<FaultRun> StartAsync(PostgresPoolFixture pool, ITestOutputHelper output, FaultLoad load, string name)
    {
        var run = new FaultRun(pool, output, load, name);
        await run.Servers.AllServingAsync(ServingTimeout);   // a previous scenario may have left a server restarting
        var added = await run.Admin.AddLicenseAsync(TestSecurity.License(run.Code, load.Seats, "CAD"));
        run.Note($"license code {run.Code}: {Describe(added)} (ledger clock {run.Ledger.Now.TotalSeconds:0.00}s = {DateTime.UtcNow:HH:mm:ss.fff} UTC)");
        var urls = pool.Servers.ToDictionary(s => s.Url.Authority, s => s.ServerId);
        for (var i = 0; i < load.Clients; i++)
        {
            // Spread over the servers: each client lists its own server first, then the others.
            var servers = Enumerable.Range(0, pool.Servers.Count).Select(k => pool.Servers[(i + k) % pool.Servers.Count].Url).ToList();
            var count = load.DoubleEvery > 0 && i % load.DoubleEvery == load.DoubleEvery - 1 ? 2 : 1;
            run._clients.Add(new LedgerClient($"client-{i:00}", count, run.Code, servers, run.Ledger,
                u => urls.GetValueOrDefault(u.Authority, u.Authority), load, new Random(HashCode.Combine(load.Seed, i))));
        }

        run._monitor = new InvariantMonitor(run.Admin, run.Code);
        run._loops = [.. run._clients.Select(c => Task.Run(() => c.RunAsync(run._churn.Token)))];
        run.Note($"{load.Clients} clients started ({run._clients.Sum(c => c.Count)} seats of demand on {load.Seats})");
        return run;
    }

    public void Note(string what)
    {
        lock (_timeline) _timeline.Add($"{Ledger.Now.TotalSeconds,7:0.00}s {what}");
    }

    /// <summary>A scenario's own check that failed; reported with the invariants by <see cref="FinishAsync"/>.</summary>
    public void Fail(string what)
    {
        Note("FAILED: " + what);
        lock (_failures) _failures.Add(what);
    }

    /// <summary>Lets the clients and the fault schedule run (a sleep on purpose: nothing is awaited but time).</summary>
    public Task RunForAsync(TimeSpan time) => Task.Delay(time);

    public async Task<ServerProcess> LeaderAsync() => _pool[(await Admin.GetLicenseAsync(Code)).Leader];

    /// <summary>Leases held now (by what their clients were told) whose server is <paramref name="serverId"/>.</summary>
    public IReadOnlyList<LeaseRecord> HeldAt(string serverId)
    {
        var now = Ledger.Now;
        return [.. Ledger.Leases.Where(l => l.Start <= now && now < l.End && l.Acks[^1].ServerId == serverId)];
    }

    /// <summary>Stops faults and churn, waits for the pool to settle, checks everything in, and asserts (a), (b), (c).</summary>
    public async Task FinishAsync()
    {
        List<string> failures;
        lock (_failures) failures = [.. _failures];
        await _churn.CancelAsync();
        await Task.WhenAll(_loops);
        Note("churn stopped (held leases keep renewing)");
        await Servers.AllServingAsync(ServingTimeout);
        Note("every server serving");

        // (c) The table adds up and every lease still held is counted once, at the server its client renews with.
        var held = _clients.Select(c => c.Held).OfType<(LicenseLease Lease, LeaseRecord Record)>().ToList();
        var settled = await SettleAsync(l => SettledWith(l, held.Where(h => !h.Lease.IsLost).ToList()), "held leases counted at their servers");
        if (settled is not null) failures.Add("(c) " + settled);
        else Note($"settled: {held.Count(h => !h.Lease.IsLost)} leases held, {held.Where(h => !h.Lease.IsLost).Sum(h => h.Lease.Count)} seats");

        foreach (var client in _clients) await client.CheckinHeldAsync();
        var empty = await SettleAsync(l => AllUp(l) && InUse(l) == 0 && TotalHolds(l) ? null : "in use after every check-in: " + Describe(l), "nothing in use");
        if (empty is not null) failures.Add("(c) " + empty);
        await _monitor!.DisposeAsync();
        var monitorViolations = _monitor.Violations;
        if (monitorViolations.Count > 0) failures.Add($"Σ allocated + free pool ≠ seats in {monitorViolations.Count} of {_monitor.Samples} samples: {string.Join(" | ", monitorViolations.Take(5))}");

        // (a) Never more seats held than the license code grants, at any instant.
        var peak = LedgerChecks.MaxHeld(Ledger.Leases);
        if (peak.Seats > Load.Seats)
        {
            failures.Add($"(a) clients held {peak.Seats} acknowledged seats of {Load.Seats} at {peak.At.TotalSeconds:0.00}s:\n      " +
                         string.Join("\n      ", peak.Held));
        }

        // (b) No update sent while the lease was held was refused.
        var refused = LedgerChecks.RefusedInTime(Ledger);
        if (refused.Count > 0)
        {
            failures.Add($"(b) {refused.Count} updates sent in time were refused ({LedgerChecks.Histogram(refused.Select(r => r.Answer))}), " +
                         $"{refused.Select(r => r.Lease.LeaseId).Distinct().Count()} leases:\n      " +
                         string.Join("\n      ", refused.Take(25).Select(r => $"{r.Answer}; held until {r.Lease.HeldUntilAsOf(r.Answer.SentAt).TotalSeconds:0.00}s")));
        }

        var report = Report(peak, refused.Count, failures);
        _output.WriteLine(report);
        var file = Path.Combine(Path.GetTempPath(), "licensing-faults", $"{_name}-seed{Load.Seed}-{DateTime.UtcNow:HHmmss}.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, report);
        await File.WriteAllLinesAsync(Path.ChangeExtension(file, ".wire.txt"),   // evidence: every lease and every answer
            [.. Ledger.Leases.OrderBy(l => l.Start).Select(l => l.ToString()), "", .. Ledger.Answers.OrderBy(a => a.SentAt).Select(a => a.ToString())]);
        foreach (var server in _pool.Servers)
        {
            // The servers' own logs of this run (all of their processes): what they said about the refusals above.
            await File.WriteAllTextAsync(Path.ChangeExtension(file, $".{server.ServerId}.log"), server.Log[_logStart[server.ServerId]..]);
        }
        if (failures.Count > 0) throw new Xunit.Sdk.XunitException($"{failures.Count} invariants failed (report: {file}):\n{report}");
    }

    private string Report(LedgerChecks.Peak peak, int refusedInTime, List<string> failures)
    {
        var leases = Ledger.Leases;
        var checkouts = _clients.SelectMany(c => c.Checkouts).GroupBy(kv => kv.Key).Select(g => $"{g.Key}={g.Sum(kv => kv.Value)}");
        var text = new StringBuilder();
        text.AppendLine($"== {_name}, seed {Load.Seed}: {Load.Clients} clients on {Load.Seats} seats, lease TTL {_pool.LeaseTtl.TotalSeconds:0} s, membership: {_pool.MembershipSummary}");
        text.AppendLine($"checkouts: {string.Join(", ", checkouts)}; leases acknowledged {leases.Count}, failed over {leases.Count(l => l.Acks.Any(a => a.FailedOver))}, lost {leases.Count(l => l.Lost is not null)} ({string.Join(", ", leases.Where(l => l.Lost is not null).GroupBy(l => l.Lost!.Value.Error).Select(g => $"{g.Key}={g.Count()}"))})");
        text.AppendLine($"(a) max acknowledged seats held at once: {peak.Seats} of {Load.Seats} (at {peak.At.TotalSeconds:0.00}s)");
        text.AppendLine($"(b) in-time updates refused: {refusedInTime}");
        text.AppendLine($"leases lost because no server answered an update before they expired (retries, not refusals): {leases.Count(l => l.Lost?.Error == "unreachable")}");
        text.AppendLine($"server exits the test did not cause (restarted): {Servers.Restarts}; invariant monitor samples: {_monitor?.Samples}");
        text.AppendLine($"wire: {LedgerChecks.Histogram(Ledger.Answers)}");
        text.AppendLine("timeline:");
        lock (_timeline) foreach (var line in _timeline) text.AppendLine("  " + line);
        text.AppendLine(failures.Count == 0 ? "all invariants held" : "FAILED:\n  " + string.Join("\n  ", failures));
        return text.ToString();
    }

    private static bool AllUp(LicenseInfo l) => l.Servers.All(s => s.Status == "Up");

    /// <summary>Null when the table adds up and each server counts exactly the seats of the leases held there.</summary>
    private static string? SettledWith(LicenseInfo l, IReadOnlyList<(LicenseLease Lease, LeaseRecord Record)> held)
    {
        var expected = held.GroupBy(h => h.Lease.ServerId).ToDictionary(g => g.Key, g => g.Sum(h => h.Lease.Count));
        var wrong = l.Servers.Where(s => s.InUse != expected.GetValueOrDefault(s.ServerId) || s.InUse > s.Allocated).ToList();
        if (AllUp(l) && TotalHolds(l) && wrong.Count == 0 && expected.Keys.All(k => l.Servers.Any(s => s.ServerId == k))) return null;
        return $"{Describe(l)}; clients hold: {string.Join(", ", expected.OrderBy(e => e.Key).Select(e => $"{e.Key}={e.Value}"))}";
    }

    private async Task<string?> SettleAsync(Func<LicenseInfo, string?> check, string what)
    {
        string? last = "no answer";
        try
        {
            await Until.TrueAsync(async () =>
            {
                try
                {
                    last = check(await Admin.GetLicenseAsync(Code));
                    return last is null;
                }
                catch (LicensingUnavailableException e)
                {
                    last = e.Message;
                    return false;
                }
            }, SettleTimeout, what);
            return null;
        }
        catch (TimeoutException e)
        {
            return $"{e.Message} Last: {last}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_churn.IsCancellationRequested) await _churn.CancelAsync();
        await Task.WhenAll(_loops);
        foreach (var client in _clients) await client.DisposeAsync();
        if (_monitor is not null) await _monitor.DisposeAsync();
        await Servers.DisposeAsync();
        await _adminServices.DisposeAsync();
    }
}
