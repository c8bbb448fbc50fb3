using System.Globalization;
using Orleans.Core.Internal;
using Orleans.Storage;
using Xunit.Abstractions;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// Seeded, reproducible schedules mixing checkouts, check-ins, heartbeats, fail-over updates, expiry, admin changes,
/// re-distribution, silo kills, failing leader writes and leader re-activations (re-fences of a killed server), with
/// both promises of docs/safety.md checked after every step:
/// <list type="number">
/// <item>no seat is issued beyond the license code (<see cref="Invariants"/>, and the seats of the leases clients hold
/// unexpired acknowledgements for);</item>
/// <item>a client that renews in time keeps its lease: an update sent before the lease's last acknowledged expiry, by
/// its client with its count, is never refused (a "retry" answer is allowed; a renewal sent after expiry may be
/// refused).</item>
/// </list>
/// LICENSING_RANDOM_SCHEDULES sets how many (default 60, under two minutes on a shared two-core machine; run hundreds
/// by hand) and LICENSING_RANDOM_FIRST_SEED where they start (1000);
/// LICENSING_RANDOM_SEED replays one; LICENSING_RANDOM_KEEP_GOING=1 runs every schedule and reports all that failed.
/// </summary>
[Collection(RandomizedCollection.Name)]
public sealed class RandomizedTests(RandomizedFixture fixture, ITestOutputHelper output)
{
    private const int DefaultSchedules = 60;

    [Fact]
    [Trait("Category", "Randomized")]
    public async Task Random_schedules_keep_every_invariant()
    {
        var seeds = Environment.GetEnvironmentVariable("LICENSING_RANDOM_SEED") is { Length: > 0 } one
            ? [int.Parse(one, CultureInfo.InvariantCulture)]
            : Enumerable.Range(
                int.TryParse(Environment.GetEnvironmentVariable("LICENSING_RANDOM_FIRST_SEED"), out var first) ? first : 1000,
                int.TryParse(Environment.GetEnvironmentVariable("LICENSING_RANDOM_SCHEDULES"), out var n) ? n : DefaultSchedules).ToArray();
        var totals = new Dictionary<string, int>();
        var seconds = new Dictionary<string, double>();
        var slowest = new List<(double Seconds, string Step)>();
        var keepGoing = Environment.GetEnvironmentVariable("LICENSING_RANDOM_KEEP_GOING") == "1";
        var failures = new List<(int Seed, string Message)>();
        (TimeSpan Took, TimeSpan Left, string What) slowestUpdate = default;
        foreach (var seed in seeds)
        {
            var schedule = new Schedule(fixture, seed);
            try
            {
                await schedule.RunAsync();
            }
            catch (Exception e)
            {
                var message = $"Schedule failed; replay with LICENSING_RANDOM_SEED={seed}. Steps:\n{string.Join("\n", schedule.Log)}\n{e}";
                if (!keepGoing) throw new Xunit.Sdk.XunitException(message);
                output.WriteLine(message);
                failures.Add((seed, message));
            }

            foreach (var (op, count) in schedule.Counts) totals[op] = totals.GetValueOrDefault(op) + count;
            foreach (var (op, time) in schedule.Seconds) seconds[op] = seconds.GetValueOrDefault(op) + time;
            slowest = [.. slowest.Concat(schedule.Slowest).OrderByDescending(s => s.Seconds).Take(5)];
            if (schedule.SlowestUpdate.Took > slowestUpdate.Took) slowestUpdate = schedule.SlowestUpdate;
        }

        output.WriteLine($"{seeds.Length} schedules: " + string.Join(", ", totals.OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value}")));
        output.WriteLine("seconds per operation (with its checks): " + string.Join(", ", seconds.OrderByDescending(t => t.Value).Select(t => $"{t.Key}={t.Value:0.0}")));
        output.WriteLine($"slowest in-time update granted: {slowestUpdate.Took.TotalMilliseconds:0} ms, sent {slowestUpdate.Left.TotalMilliseconds:0} ms before expiry ({slowestUpdate.What})");
        output.WriteLine("slowest steps:\n" + string.Join("\n", slowest.Select(s => $"  {s.Seconds:0.00} s {s.Step}")));
        if (failures.Count > 0)
        {
            throw new Xunit.Sdk.XunitException($"{failures.Count} of {seeds.Length} schedules failed (seeds {string.Join(", ", failures.Select(f => f.Seed))}); the first:\n{failures[0].Message}");
        }

        if (seeds.Length >= 10)
        {
            // The mix really ran: a replay of one seed may happen to draw no fail-over.
            Assert.True(totals.GetValueOrDefault("checkout") > 0 && totals.GetValueOrDefault("failover") > 0, "no checkout or no fail-over ran");
            Assert.True(totals.GetValueOrDefault("in-time-update-ok") > 0, "no update was sent in time");
            Assert.True(totals.GetValueOrDefault("leader-write-failed") > 0, "no leader write was made to fail");
            if (seeds.Any(s => s % Schedule.KillEvery == 0))
            {
                // Each activation of the leader wrote a new version: it fenced the killed server again.
                Assert.True(totals.GetValueOrDefault("refence-new-version") > 0, "no leader re-activation re-fenced a killed server");
            }
        }
    }

    private sealed class Schedule(RandomizedFixture fixture, int seed)
    {
        private const int Steps = 24;
        public static readonly int KillEvery = int.TryParse(Environment.GetEnvironmentVariable("LICENSING_RANDOM_KILL_EVERY"), out var k) && k > 0 ? k : 10;
        private readonly PoolCluster _pool = fixture.Pool;
        private readonly Random _random = new(seed);
        private readonly string _code = $"rnd-{seed}-{Guid.NewGuid():N}"[..24];

        // What the clients hold: each lease as last acknowledged to its client (its server, its expiry).
        private readonly List<Lease> _leases = [];

        // Per lease id, what its client sent and heard, for the failure message.
        private readonly Dictionary<string, List<string>> _history = new(StringComparer.Ordinal);
        private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
        private string? _killed;
        private int _step = -1;

        public List<string> Log { get; } = [];

        public Dictionary<string, int> Counts { get; } = [];

        /// <summary>Time spent per operation, with the invariant checks after it.</summary>
        public Dictionary<string, double> Seconds { get; } = [];

        public List<(double Seconds, string Step)> Slowest { get; } = [];

        /// <summary>The in-time update that took longest to be answered (and how long its lease had left when sent).</summary>
        public (TimeSpan Took, TimeSpan Left, string What) SlowestUpdate { get; private set; }

        public async Task RunAsync()
        {
            var servers = _pool.ServerIds;
            var seats = _random.Next(3, 16);
            await _pool.AddCodeAsync(_code, seats, servers[_random.Next(servers.Count)], RandomCriteria(seats));
            Log.Add($"add {_code} seats={seats}");
            try
            {
                for (_step = 0; _step < Steps; _step++)
                {
                    var op = PickOperation(seed, _step);
                    Log.Add($"#{_step} {At(DateTimeOffset.UtcNow)} {op}");
                    Count(op);
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    await RunAsync(op);
                    await CheckAsync();
                    Seconds[op] = Seconds.GetValueOrDefault(op) + clock.Elapsed.TotalSeconds;
                    Slowest.Add((clock.Elapsed.TotalSeconds, $"seed {seed} {Log[^1]}"));
                }
            }
            finally
            {
                if (_killed is not null) await _pool.RestartAsync(_killed);
            }

            await Invariants.CheckAsync(_pool, _code);
        }

        /// <summary>Promise 1, from the servers' side (<see cref="Invariants"/>) and from the clients'.</summary>
        private async Task CheckAsync()
        {
            // Every lease a client was acknowledged and that has not expired yet is a seat its client may use now.
            var now = DateTimeOffset.UtcNow;
            var valid = _leases.Where(l => l.ExpiresAt > now).ToList();
            var (distribution, _) = await Invariants.CheckAsync(_pool, _code);
            Assert.True(valid.Sum(l => l.Count) <= distribution.Total,
                $"Promise 1 broken: clients hold {valid.Sum(l => l.Count)} seats of unexpired acknowledged leases at {At(now)}, more than the {distribution.Total} of {_code}: "
                + string.Join("; ", valid.Select(l => $"{l.LeaseId}x{l.Count} at {l.ServerId} until {At(l.ExpiresAt)}")));
        }

        private string PickOperation(int scheduleSeed, int step)
        {
            // One schedule in ten (LICENSING_RANDOM_KILL_EVERY) kills a server, never the first silo, at its fifth step.
            if (scheduleSeed % KillEvery == 0 && step == 4 && _killed is null) return "kill";

            // While a server is down, the leader re-activates several times in a row now and then: each activation fences it again.
            if (_killed is not null && _random.Next(100) < 10) return "refence";
            var roll = _random.Next(100);
            return roll switch
            {
                < 34 => "checkout",
                < 48 => "checkin",
                < 61 => "heartbeat",
                < 72 => "failover",
                < 77 => "expire",
                < 82 => "add-allocations",
                < 87 => "change-criteria",
                < 91 => "redistribute",
                < 96 => "leader-write-fails",
                < 98 => "reactivate-leader",
                _ => "wait-for-expiry",
            };
        }

        private async Task RunAsync(string op)
        {
            var live = _pool.ServerIds;
            var server = live[_random.Next(live.Count)];
            try
            {
                switch (op)
                {
                    case "checkout":
                        await CheckoutAsync(server, _random.Next(1, 3));
                        break;
                    case "checkin" when _leases.Count > 0:
                        var gone = TakeLease();
                        Log[^1] += $" {gone.LeaseId} at {gone.ServerId}";
                        History(gone, "checked in");
                        if (live.Contains(gone.ServerId)) await _pool.Server(gone.ServerId, _code).Checkin(gone.LeaseId, gone.ClientId);
                        break;
                    case "heartbeat" when _leases.Count > 0:
                        await HeartbeatAsync(PickLease(), live);
                        break;
                    case "failover" when _leases.Count > 0 && live.Count > 1:
                        var lease = PickLease();
                        await UpdateAsync(lease, OtherThan(lease.ServerId, live));
                        break;
                    case "expire":
                        await _pool.Server(server, _code).ExpireLeases();
                        break;
                    case "add-allocations":
                        await _pool.Server(server, _code).AddAllocations(await _pool.AllocationsAsync(_code, _random.Next(1, 4)));
                        break;
                    case "change-criteria":
                        var total = (await _pool.DistributionAsync(_code)).Total;
                        await _pool.Server(server, _code).ChangeDistributionCriteria(new ChangeDistributionCriteria(_code, RandomCriteria(total)));
                        break;
                    case "redistribute":
                        await _pool.Pool(_code).Redistribute();
                        break;
                    case "wait-for-expiry":
                        // Lets leases age so that some expire mid-schedule (the sweep timer removes them).
                        await Task.Delay(RandomizedFixture.LeaseTtl / 4);
                        break;
                    case "kill" when live.Count > 2:
                        _killed = live[1 + _random.Next(live.Count - 1)];
                        Log[^1] += $" {_killed}";
                        await _pool.KillAsync(_killed);
                        await _pool.WaitUntilDownAsync(_code, _killed);
                        break;
                    case "leader-write-fails":
                        await FailLeaderWriteAsync(live);
                        break;
                    case "reactivate-leader":
                        await ReactivateLeaderAsync();
                        break;
                    case "refence" when _killed is not null:
                        await RefenceAsync(live);
                        break;
                }
            }
            catch (LicensingException e) when (e.Error is LicensingErrors.NoAllocation or LicensingErrors.Conflict)
            {
                Log[^1] += $" -> {e.Error}";
            }
            catch (Exception e) when (IsRetry(e))
            {
                // "Retry": the caller may try again; nothing it was acknowledged before is lost.
                Log[^1] += $" -> retry ({Describe(e)})";
            }
        }

        private async Task CheckoutAsync(string server, int count)
        {
            var leaseId = Guid.NewGuid().ToString("N")[..12];
            var result = await _pool.Server(server, _code).Checkout(new CheckoutRequest(leaseId, $"client-{_random.Next(5)}", count));
            if (result.Lease is { } granted)
            {
                _leases.Add(granted);
                History(granted, $"checked out x{count} at {server} until {At(granted.ExpiresAt)}");
            }

            Log[^1] += $" x{count} at {server}: {(result.Granted ? $"{leaseId} until {At(result.Lease!.ExpiresAt)}" : "denied")}";
        }

        private async Task HeartbeatAsync(Lease lease, IReadOnlyList<string> live)
        {
            if (live.Contains(lease.ServerId))
            {
                await UpdateAsync(lease, lease.ServerId);
            }
            else
            {
                // Its server is dead: the client fails over to the next one.
                await UpdateAsync(lease, live[_random.Next(live.Count)]);
            }
        }

        /// <summary>
        /// A heartbeat (to the lease's server) or a fail-over update (to another) by the lease's client with its count.
        /// Promise 2: when it is sent before the expiry last acknowledged to the client, the answer is the renewed
        /// lease or "retry", never a refusal.
        /// </summary>
        private async Task UpdateAsync(Lease lease, string target)
        {
            var sentAt = DateTimeOffset.UtcNow;
            var inTime = sentAt < lease.ExpiresAt;
            var what = $"update {lease.ServerId}->{target} sent at {At(sentAt)} ({Left(lease, sentAt)})";
            Log[^1] += $" {lease.LeaseId} {lease.ServerId}->{target} ({Left(lease, sentAt)})";
            try
            {
                var renewed = await _pool.Server(target, _code).Update(new LeaseUpdate(lease.LeaseId, lease.ClientId, lease.Count, lease.ServerId));
                _leases[_leases.IndexOf(lease)] = renewed;
                Log[^1] += $" -> {renewed.ServerId} until {At(renewed.ExpiresAt)} (answered at {At(DateTimeOffset.UtcNow)})";
                History(lease, $"{what} -> {renewed.ServerId} until {At(renewed.ExpiresAt)}");
                if (inTime)
                {
                    Count("in-time-update-ok");
                    var took = DateTimeOffset.UtcNow - sentAt;
                    if (took > SlowestUpdate.Took) SlowestUpdate = (took, lease.ExpiresAt - sentAt, $"seed {seed} #{_step} {lease.LeaseId} {lease.ServerId}->{target}");
                }
            }
            catch (Exception e) when (IsRetry(e))
            {
                // The client keeps what it was acknowledged last, and tries again later (naming the same server).
                Log[^1] += $" -> retry ({Describe(e)}) at {At(DateTimeOffset.UtcNow)}";
                History(lease, $"{what} -> retry ({Describe(e)}) at {At(DateTimeOffset.UtcNow)}");
                Count("update-retry");
            }
            catch (LicensingException e) when (!inTime)
            {
                _leases.Remove(lease);
                Log[^1] += $" -> lost after expiry ({e.Error})";
                History(lease, $"{what} -> lost ({e.Error})");
            }
            catch (LicensingException e)
            {
                var answeredAt = DateTimeOffset.UtcNow;
                Log[^1] += $" -> REFUSED IN TIME ({e.Error}) at {At(answeredAt)}";
                History(lease, $"{what} -> refused ({e.Error}) at {At(answeredAt)}: {e.Message}");
                throw new Xunit.Sdk.XunitException(
                    $"Promise 2 broken (seed {seed}, step #{_step}): lease {lease.LeaseId} of {_code} (client {lease.ClientId}, count {lease.Count}, last acknowledged by "
                    + $"{lease.ServerId} until {At(lease.ExpiresAt)}) was refused with '{e.Error}' on an update to {target} sent at {At(sentAt)}, "
                    + $"{(lease.ExpiresAt - sentAt).TotalMilliseconds:0} ms before its expiry, answered at {At(answeredAt)} ({(answeredAt - sentAt).TotalMilliseconds:0} ms later): {e.Message}\n"
                    + $"Lease {lease.LeaseId}:\n  {string.Join("\n  ", _history[lease.LeaseId])}\n"
                    + await DescribePoolAsync(lease.LeaseId));
            }
        }

        /// <summary>Where a lease is now, for a failure message: the leader's rows and every running server's copy.</summary>
        private async Task<string> DescribePoolAsync(string leaseId)
        {
            var lines = new List<string>();
            try
            {
                var distribution = await _pool.DistributionAsync(_code);
                lines.Add($"leader at {distribution.LeaderServerId} v{distribution.Version}, free {distribution.FreePool}: {string.Join("; ", distribution.Servers)}");
                foreach (var serverId in _pool.ServerIds)
                {
                    var view = await _pool.Server(serverId, _code).GetView();
                    var copy = view.Leases.FirstOrDefault(l => l.LeaseId == leaseId);
                    lines.Add($"{serverId} v{view.AppliedVersion} {view.InUse}/{view.Allocated}: {(copy is null ? "does not hold it" : $"holds it until {At(copy.ExpiresAt)}")}");
                }
            }
            catch (Exception e)
            {
                lines.Add($"(could not read the pool: {e.GetType().Name}: {e.Message})");
            }

            return $"Now ({At(DateTimeOffset.UtcNow)}):\n  {string.Join("\n  ", lines)}";
        }

        /// <summary>
        /// The leader fails its next write, in a step that makes it write: a checkout beyond a server's allocation (a
        /// borrow), or a fail-over update that moves a lease (an adoption). The failure is disarmed after the step.
        /// </summary>
        private async Task FailLeaderWriteAsync(IReadOnlyList<string> live)
        {
            var leader = _pool.Pool(_code).GetGrainId();
            var armed = 1;
            var failed = 0;
            bool FailOnce(string stateName, GrainId grainId)
            {
                if (stateName != "pool" || grainId != leader || Interlocked.Exchange(ref armed, 0) == 0) return false;
                Interlocked.Increment(ref failed);
                return true;
            }

            // The leader may be on any silo (and move to another when it re-activates).
            var storages = live.Select(fixture.StorageOf).ToList();
            foreach (var storage in storages) storage.FailWritesOf = FailOnce;
            try
            {
                var now = DateTimeOffset.UtcNow;
                var movable = _leases.Where(l => l.ExpiresAt > now).ToList();
                if (movable.Count > 0 && live.Count > 1 && _random.Next(2) == 0)
                {
                    var lease = movable[_random.Next(movable.Count)];
                    Log[^1] += " (adoption)";
                    await UpdateAsync(lease, OtherThan(lease.ServerId, live));
                }
                else
                {
                    var server = live[_random.Next(live.Count)];
                    var view = await _pool.Server(server, _code).GetView();
                    var total = (await _pool.DistributionAsync(_code)).Total;
                    Log[^1] += $" (borrow: {view.InUse}/{view.Allocated} at {server})";
                    await CheckoutAsync(server, Math.Clamp(view.Allocated - view.InUse + 1, 1, Math.Min(total, 4)));
                }
            }
            finally
            {
                foreach (var storage in storages) storage.FailWritesOf = null;
                Log[^1] += failed > 0 ? " [the leader's write failed]" : " [the leader did not write]";
                if (failed > 0) Count("leader-write-failed");
            }
        }

        /// <summary>Deactivates the leader; the next call activates it again from storage.</summary>
        private async Task<(Distribution Before, Distribution After)> ReactivateLeaderAsync()
        {
            var before = await _pool.DistributionAsync(_code);
            await _pool.Pool(_code).Cast<IGrainManagementExtension>().DeactivateOnIdle();
            var after = await _pool.DistributionAsync(_code);
            Log[^1] += $" v{before.Version}@{before.LeaderServerId}->v{after.Version}@{after.LeaderServerId}";
            return (before, after);
        }

        /// <summary>
        /// While a server is down, the leader re-activates several times in a row, fencing it again each time; now and
        /// then a client of the down server fails over between two activations.
        /// </summary>
        private async Task RefenceAsync(IReadOnlyList<string> live)
        {
            var times = _random.Next(2, 5);
            for (var i = 0; i < times; i++)
            {
                var (before, after) = await ReactivateLeaderAsync();
                Assert.True(after[_killed!]?.Status == ServerStatus.Down, $"the re-activated leader counts the killed {_killed} up: {string.Join("; ", after.Servers)}");
                if (before[_killed!]?.Status == ServerStatus.Down && after.Version > before.Version) Count("refence-new-version");
                var stranded = _leases.Where(l => l.ServerId == _killed).ToList();
                if (stranded.Count > 0 && _random.Next(2) == 0)
                {
                    await UpdateAsync(stranded[_random.Next(stranded.Count)], live[_random.Next(live.Count)]);
                }
            }
        }

        private static bool IsRetry(Exception e) =>
            e is LicensingException { Error: LicensingErrors.Unavailable }
                or SiloUnavailableException or TimeoutException or OrleansMessageRejectionException or InconsistentStateException;

        private static string Describe(Exception e) => e is LicensingException l ? l.Error : e.GetType().Name;

        private string OtherThan(string serverId, IReadOnlyList<string> live)
        {
            var others = live.Where(s => s != serverId).ToList();
            return others[_random.Next(others.Count)];
        }

        private void Count(string what) => Counts[what] = Counts.GetValueOrDefault(what) + 1;

        private void History(Lease lease, string what)
        {
            if (!_history.TryGetValue(lease.LeaseId, out var lines)) _history[lease.LeaseId] = lines = [];
            lines.Add($"#{_step} {what}");
        }

        /// <summary>Time since the schedule started, in milliseconds: one clock for leases, steps and sends (one process).</summary>
        private string At(DateTimeOffset time) => $"t={(time - _start).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)}ms";

        private static string Left(Lease lease, DateTimeOffset sentAt)
        {
            var left = (lease.ExpiresAt - sentAt).TotalMilliseconds;
            return left > 0 ? $"{left:0} ms left" : $"expired {-left:0} ms ago";
        }

        private Lease PickLease() => _leases[_random.Next(_leases.Count)];

        private Lease TakeLease()
        {
            var lease = PickLease();
            _leases.Remove(lease);
            return lease;
        }

        private DistributionCriteria RandomCriteria(int total)
        {
            var servers = _pool.ServerIds;
            var threshold = _random.Next(4) switch { 0 => 0.5, 1 => 0.8, 2 => 1.0, _ => 0.7 };
            switch (_random.Next(3))
            {
                case 0:
                    return new DistributionCriteria(Even: true, DefaultThreshold: threshold, FreePoolReserve: _random.Next(0, total / 2 + 1));
                case 1:
                    var left = total;
                    var shares = new Dictionary<string, int>();
                    foreach (var s in servers)
                    {
                        shares[s] = _random.Next(0, left + 1) / 2;
                        left -= shares[s];
                    }

                    return new DistributionCriteria(Shares: shares, DefaultThreshold: threshold);
                default:
                    return new DistributionCriteria(Weights: servers.ToDictionary(s => s, _ => _random.Next(1, 4)), DefaultThreshold: threshold);
            }
        }
    }
}
