using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Licensing.Tests.Infrastructure;
using Orleans.Licensing.Usage;

namespace Orleans.Licensing.Tests.Usage;

/// <summary>
/// What reaches the durable usage log: sampled heartbeats, the switch, retention in the SQLite store, and a report
/// that still counts a long-held lease exactly with sampled heartbeats.
/// </summary>
public sealed class UsageLogTrimTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_lease_logs_its_first_heartbeat_then_one_per_interval_and_forgets_on_checkin()
    {
        var sampler = new HeartbeatSampler(TimeSpan.FromMinutes(5));
        Assert.True(sampler.ShouldLog("a", T0));
        Assert.False(sampler.ShouldLog("a", T0.AddMinutes(4.9)));
        Assert.True(sampler.ShouldLog("a", T0.AddMinutes(5)));
        Assert.True(sampler.ShouldLog("b", T0.AddMinutes(5)));
        sampler.Seen("c", T0);
        Assert.False(sampler.ShouldLog("c", T0.AddSeconds(10)));
        sampler.Forget("c");
        Assert.True(sampler.ShouldLog("c", T0.AddSeconds(20)));
        Assert.Equal(3, sampler.Tracked);
        sampler.Sweep(T0.AddMinutes(10).AddSeconds(30));
        Assert.Equal(2, sampler.Tracked);
    }

    [Fact]
    public void Interval_zero_logs_every_heartbeat()
    {
        var sampler = new HeartbeatSampler(TimeSpan.Zero);
        Assert.True(sampler.ShouldLog("a", T0));
        Assert.True(sampler.ShouldLog("a", T0));
        Assert.Equal(0, sampler.Tracked);
    }

    [Fact]
    public async Task The_log_writes_checkouts_and_checkins_but_only_sampled_heartbeats()
    {
        var store = new ListStore();
        await using var log = await StartAsync(store, new UsageLogOptions { FlushInterval = TimeSpan.FromMilliseconds(20) });
        log.Lease(UsageKinds.Checkout, "C", "s1", "L", "client", 1);
        for (var i = 0; i < 50; i++) log.Lease(UsageKinds.Heartbeat, "C", "s1", "L", "client", 1);
        log.Lease(UsageKinds.Checkin, "C", "s1", "L", "client", 1);
        await Until(() => store.Events.Count == 2);
        Assert.Equal([UsageKinds.Checkout, UsageKinds.Checkin], store.Events.Select(e => e.Kind));
        Assert.Equal(0, log.Dropped);
    }

    [Fact]
    public async Task Disabled_the_log_writes_nothing()
    {
        var store = new ListStore();
        await using var log = await StartAsync(store, new UsageLogOptions { Enabled = false, FlushInterval = TimeSpan.FromMilliseconds(20) });
        log.Lease(UsageKinds.Checkout, "C", "s1", "L", "client", 1);
        log.Lease(UsageKinds.Checkin, "C", "s1", "L", "client", 1);
        await Task.Delay(200);
        Assert.Empty(store.Events);
        Assert.Equal(0, log.Pending);
    }

    [Fact]
    public async Task A_full_buffer_counts_what_it_drops()
    {
        var store = new ListStore { Fail = true };
        await using var log = await StartAsync(store, new UsageLogOptions { BufferCapacity = 10, MaxBatch = 5, FlushInterval = TimeSpan.FromMilliseconds(10), RetryDelay = TimeSpan.FromSeconds(30) });
        for (var i = 0; i < 30; i++) log.Lease(UsageKinds.Checkout, "C", "s1", $"L{i}", "client", 1);
        await Until(() => store.Attempted > 0);

        // At most one batch (≤ 5) is held by the failing writer and 10 wait in the buffer: the rest are counted.
        Assert.InRange(log.Dropped, 15, 20);
        Assert.Equal(30, log.Dropped + log.Pending + store.Attempted);
    }

    [Fact]
    public async Task Retention_prunes_the_sqlite_log_in_batches_and_keeps_newer_events()
    {
        var path = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"), "usage.db");
        var store = new SqliteUsageStore(path);
        var now = DateTimeOffset.UtcNow;
        var old = Enumerable.Range(0, 25).Select(i => new UsageEvent(now.AddDays(-30).AddSeconds(i), UsageKinds.Checkout, "C", "s1", "c", 1, $"old{i}")).ToList();
        var recent = Enumerable.Range(0, 3).Select(i => new UsageEvent(now.AddMinutes(-i), UsageKinds.Checkout, "C", "s1", "c", 1, $"new{i}")).ToList();
        await store.WriteAsync([.. old, .. recent], CancellationToken.None);
        var log = new UsageLog(store, Options.Create(new UsageLogOptions { PruneBatch = 10 }), NullLogger<UsageLog>.Instance);

        Assert.Equal(25, await log.PruneOnceAsync(now.AddDays(-1), CancellationToken.None));
        var left = await store.QueryAsync(new UsageQuery("C", null, null, null, 100), CancellationToken.None);
        Assert.Equal(["new2", "new1", "new0"], left.Select(e => e.LeaseId));
        Assert.Equal(0, await store.PruneAsync(now.AddDays(-1), 10, CancellationToken.None));
    }

    [PostgresFact]
    [Trait("Category", "Postgres")]
    public async Task Retention_prunes_the_postgres_log_of_its_service_only()
    {
        var now = DateTimeOffset.UtcNow;
        var mine = new PostgresUsageStore(TestStorage.PostgresConnectionString!, "prune-" + Guid.NewGuid().ToString("N")[..12]);
        var other = new PostgresUsageStore(TestStorage.PostgresConnectionString!, "prune-" + Guid.NewGuid().ToString("N")[..12]);
        var old = Enumerable.Range(0, 25).Select(i => new UsageEvent(now.AddDays(-30).AddSeconds(i), UsageKinds.Checkout, "C", "s1", "c", 1, $"old{i}")).ToList();
        await mine.WriteAsync([.. old, new UsageEvent(now, UsageKinds.Checkin, "C", "s1", "c", 1, "new")], CancellationToken.None);
        await other.WriteAsync(old, CancellationToken.None);
        var log = new UsageLog(mine, Options.Create(new UsageLogOptions { PruneBatch = 10 }), NullLogger<UsageLog>.Instance);

        Assert.Equal(25, await log.PruneOnceAsync(now.AddDays(-1), CancellationToken.None));
        Assert.Equal(["new"], (await mine.QueryAsync(new UsageQuery("C", null, null, null, 100), CancellationToken.None)).Select(e => e.LeaseId));
        Assert.Equal(25, (await other.QueryAsync(new UsageQuery("C", null, null, null, 100), CancellationToken.None)).Count);
        Assert.Equal(25, await other.PruneAsync(now.AddDays(-1), 100, CancellationToken.None));
    }

    [Fact]
    public void The_report_counts_a_lease_held_for_days_whose_heartbeats_were_sampled()
    {
        var ttl = TimeSpan.FromMinutes(1);
        var sample = TimeSpan.FromMinutes(5);
        var sampler = new HeartbeatSampler(sample);
        var events = new List<UsageEvent> { new(T0, UsageKinds.Checkout, "C", "s1", "c", 3, "L") };
        sampler.Seen("L", T0);
        for (var at = T0.AddSeconds(20); at < T0.AddDays(2); at = at.AddSeconds(20))
        {
            if (sampler.ShouldLog("L", at)) events.Add(new UsageEvent(at, UsageKinds.Heartbeat, "C", "s1", "c", 3, "L"));
        }

        // The report of day 2 reads from its start minus the lookback: the lease is in use all day.
        var since = T0.AddDays(1).Date;
        var from = new DateTimeOffset(since, TimeSpan.Zero) - UsageReport.Lookback(ttl, sample);
        var report = UsageReport.Compute([.. events.Where(e => e.At >= from)], new DateTimeOffset(since, TimeSpan.Zero), new DateTimeOffset(since.AddDays(1), TimeSpan.Zero), _ => 10);
        Assert.Equal(3, Assert.Single(report.Days).PeakInUse);
        Assert.InRange(events.Count, 2 * 24 * 12, 2 * 24 * 12 + 2);
    }

    private static async Task<RunningLog> StartAsync(IUsageStore store, UsageLogOptions options)
    {
        var log = new UsageLog(store, Options.Create(options), NullLogger<UsageLog>.Instance);
        await log.StartAsync(CancellationToken.None);
        return new RunningLog(log);
    }

    private static async Task Until(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("condition not met in 10 s");
            await Task.Delay(10);
        }
    }

    private sealed class RunningLog(UsageLog log) : IAsyncDisposable
    {
        public long Dropped => log.Dropped;

        public int Pending => log.Pending;

        public void Lease(string kind, string code, string server, string lease, string client, int count) => log.Lease(kind, code, server, lease, client, count);

        public async ValueTask DisposeAsync()
        {
            await log.StopAsync(CancellationToken.None);
            log.Dispose();
        }
    }

    private sealed class ListStore : IUsageStore
    {
        private readonly Lock _lock = new();
        private int _attempted;

        public bool Fail { get; init; }

        public List<UsageEvent> Events { get; } = [];

        /// <summary>Events in batches handed to a write (failed or not), counted once per distinct batch: the writer's one batch in hand.</summary>
        public int Attempted => Volatile.Read(ref _attempted);

        public bool IsDurable => true;

        public Task WriteAsync(IReadOnlyList<UsageEvent> batch, CancellationToken cancellationToken)
        {
            Volatile.Write(ref _attempted, batch.Count);
            if (Fail) throw new InvalidOperationException("store down");
            lock (_lock) Events.AddRange(batch);
            return Task.CompletedTask;
        }

        public Task<int> PruneAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) => Task.FromResult(0);

        public Task<IReadOnlyList<UsageEvent>> QueryAsync(UsageQuery query, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<UsageEvent>>([]);
    }
}
