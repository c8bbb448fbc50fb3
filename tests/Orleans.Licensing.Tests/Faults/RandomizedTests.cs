using Xunit.Abstractions;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// Seeded, reproducible schedules mixing checkouts, check-ins, heartbeats, fail-over updates, expiry, admin changes,
/// re-distribution and silo kills, with the invariants checked after every step. LICENSING_RANDOM_SCHEDULES sets how
/// many (default 100) and LICENSING_RANDOM_FIRST_SEED where they start (1000); LICENSING_RANDOM_SEED replays one.
/// </summary>
[Collection(RandomizedCollection.Name)]
public sealed class RandomizedTests(RandomizedFixture fixture, ITestOutputHelper output)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Category", "Randomized")]
    public async Task Random_schedules_keep_every_invariant()
    {
        var seeds = Environment.GetEnvironmentVariable("LICENSING_RANDOM_SEED") is { Length: > 0 } one
            ? [int.Parse(one, System.Globalization.CultureInfo.InvariantCulture)]
            : Enumerable.Range(
                int.TryParse(Environment.GetEnvironmentVariable("LICENSING_RANDOM_FIRST_SEED"), out var first) ? first : 1000,
                int.TryParse(Environment.GetEnvironmentVariable("LICENSING_RANDOM_SCHEDULES"), out var n) ? n : 100).ToArray();
        var totals = new Dictionary<string, int>();
        foreach (var seed in seeds)
        {
            var schedule = new Schedule(_pool, seed);
            try
            {
                await schedule.RunAsync();
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"Schedule failed; replay with LICENSING_RANDOM_SEED={seed}. Steps:\n{string.Join("\n", schedule.Log)}\n{e}");
            }

            foreach (var (op, count) in schedule.Counts) totals[op] = totals.GetValueOrDefault(op) + count;
        }

        output.WriteLine($"{seeds.Length} schedules: " + string.Join(", ", totals.OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value}")));
        if (seeds.Length >= 10)
        {
            // The mix really ran: a replay of one seed may happen to draw no fail-over.
            Assert.True(totals.GetValueOrDefault("checkout") > 0 && totals.GetValueOrDefault("failover") > 0);
        }
    }

    private sealed class Schedule(PoolCluster pool, int seed)
    {
        private const int Steps = 24;
        private static readonly int KillEvery = int.TryParse(Environment.GetEnvironmentVariable("LICENSING_RANDOM_KILL_EVERY"), out var k) && k > 0 ? k : 10;
        private readonly Random _random = new(seed);
        private readonly string _code = $"rnd-{seed}-{Guid.NewGuid():N}"[..24];
        private readonly List<Lease> _leases = [];
        private string? _killed;

        public List<string> Log { get; } = [];

        public Dictionary<string, int> Counts { get; } = [];

        public async Task RunAsync()
        {
            var servers = pool.ServerIds;
            var seats = _random.Next(3, 16);
            await pool.AddCodeAsync(_code, seats, servers[_random.Next(servers.Count)], RandomCriteria(seats));
            Log.Add($"add {_code} seats={seats}");
            try
            {
                for (var step = 0; step < Steps; step++)
                {
                    var op = PickOperation(seed, step);
                    Log.Add($"#{step} {op}");
                    Counts[op] = Counts.GetValueOrDefault(op) + 1;
                    await RunAsync(op);
                    await Invariants.CheckAsync(pool, _code);
                }
            }
            finally
            {
                if (_killed is not null) await pool.RestartAsync(_killed);
            }

            await Invariants.CheckAsync(pool, _code);
        }

        private string PickOperation(int scheduleSeed, int step)
        {
            // One schedule in ten (LICENSING_RANDOM_KILL_EVERY) kills a server, never the first silo, at its fifth step.
            if (scheduleSeed % KillEvery == 0 && step == 4 && _killed is null) return "kill";
            var roll = _random.Next(100);
            return roll switch
            {
                < 36 => "checkout",
                < 51 => "checkin",
                < 64 => "heartbeat",
                < 75 => "failover",
                < 81 => "expire",
                < 86 => "add-allocations",
                < 92 => "change-criteria",
                < 98 => "redistribute",
                _ => "wait-for-expiry",
            };
        }

        private async Task RunAsync(string op)
        {
            var live = pool.ServerIds;
            var server = live[_random.Next(live.Count)];
            try
            {
                switch (op)
                {
                    case "checkout":
                        var result = await pool.Server(server, _code).Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N")[..12], $"client-{_random.Next(5)}", _random.Next(1, 3)));
                        if (result.Lease is { } granted) _leases.Add(granted);
                        Log[^1] += $" at {server}: {(result.Granted ? result.Lease!.LeaseId : "denied")}";
                        break;
                    case "checkin" when _leases.Count > 0:
                        var gone = TakeLease();
                        Log[^1] += $" {gone.LeaseId} at {gone.ServerId}";
                        if (live.Contains(gone.ServerId)) await pool.Server(gone.ServerId, _code).Checkin(gone.LeaseId, gone.ClientId);
                        break;
                    case "heartbeat" when _leases.Count > 0:
                        await HeartbeatAsync(PickLease(), live);
                        break;
                    case "failover" when _leases.Count > 0 && live.Count > 1:
                        var lease = PickLease();
                        var target = live.Where(s => s != lease.ServerId).ElementAt(_random.Next(live.Count(s => s != lease.ServerId)));
                        await UpdateAsync(lease, target);
                        break;
                    case "expire":
                        await pool.Server(server, _code).ExpireLeases();
                        break;
                    case "add-allocations":
                        await pool.Server(server, _code).AddAllocations(new AddAllocations(_code, _random.Next(1, 4)));
                        break;
                    case "change-criteria":
                        var total = (await pool.DistributionAsync(_code)).Total;
                        await pool.Server(server, _code).ChangeDistributionCriteria(new ChangeDistributionCriteria(_code, RandomCriteria(total)));
                        break;
                    case "redistribute":
                        await pool.Pool(_code).Redistribute();
                        break;
                    case "wait-for-expiry":
                        // Lets leases age so that some expire mid-schedule (the sweep timer removes them).
                        await Task.Delay(RandomizedFixture.LeaseTtl / 4);
                        break;
                    case "kill" when live.Count > 2:
                        _killed = live[1 + _random.Next(live.Count - 1)];
                        Log[^1] += $" {_killed}";
                        await pool.KillAsync(_killed);
                        await pool.WaitUntilDownAsync(_code, _killed);
                        break;
                }
            }
            catch (LicensingException e) when (e.Error is LicensingErrors.NoAllocation or LicensingErrors.Conflict)
            {
                Log[^1] += $" -> {e.Error}";
            }
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

        private async Task UpdateAsync(Lease lease, string target)
        {
            Log[^1] += $" {lease.LeaseId} {lease.ServerId}->{target}";
            _leases.Remove(lease);
            try
            {
                _leases.Add(await pool.Server(target, _code).Update(new LeaseUpdate(lease.LeaseId, lease.ClientId, lease.Count, lease.ServerId)));
            }
            catch (LicensingException e) when (e.Error is LicensingErrors.NoAllocation or LicensingErrors.LeaseUnknown)
            {
                Log[^1] += $" -> lost ({e.Error})";
            }
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
            var servers = pool.ServerIds;
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
