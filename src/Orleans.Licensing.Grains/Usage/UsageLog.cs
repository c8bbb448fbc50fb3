using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;

namespace Orleans.Licensing.Usage;

/// <summary>Settings of the usage log (configuration section "Licensing:UsageLog"); docs/observability.md.</summary>
public sealed class UsageLogOptions
{
    /// <summary>
    /// False: events reach only the metrics, nothing is written to the durable log (no usage API data, no report).
    /// An operator's choice with a measured cost: docs/benchmarks.md.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A lease's heartbeats are written at most once per this interval (its first one always); zero: every one.</summary>
    public TimeSpan HeartbeatSampleInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Events older than this are deleted (in batches of <see cref="PruneBatch"/>); zero: kept forever.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How often this server prunes the log (every server does; a batch deleted twice deletes nothing).</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows deleted by one statement at most, so that pruning never holds a long lock or a long transaction.</summary>
    public int PruneBatch { get; set; } = 10_000;

    /// <summary>Events kept in memory while the store is slow or unreachable; beyond it events are dropped and counted.</summary>
    public int BufferCapacity { get; set; } = 100_000;

    /// <summary>Events written in one statement at most.</summary>
    public int MaxBatch { get; set; } = 1_000;

    /// <summary>
    /// The longest an event waits in memory before its batch is written while the store answers: the lag of the log
    /// behind the pool (a batch is written as soon as it is full or this much after its first event).
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Wait after a failed write before the same batch is tried again (doubles up to 30 s).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The recorder the grains call: it counts each event in <see cref="LicensingTelemetry"/> and queues it in a bounded
/// buffer; a background loop writes the buffer to <see cref="IUsageStore"/> in batches. A checkout never waits for the
/// log: its lag is bounded by <see cref="UsageLogOptions.FlushInterval"/> plus one write while the store answers. When
/// the store fails, the batch is retried (with backoff) and new events wait in the buffer; once it is full they are
/// dropped and counted in <c>licensing.usage_log.dropped</c> (and <see cref="Dropped"/>), as is a last batch that
/// cannot be written while the server stops. Heartbeats are sampled (<see cref="HeartbeatSampler"/>); old rows are
/// pruned (<see cref="UsageLogOptions.Retention"/>).
/// </summary>
public sealed partial class UsageLog : BackgroundService, IUsageRecorder
{
    private readonly IUsageStore _store;
    private readonly UsageLogOptions _options;
    private readonly ILogger<UsageLog> _logger;
    private readonly Channel<UsageEvent> _buffer;
    private readonly HeartbeatSampler _heartbeats;
    private readonly bool _durable;
    private long _dropped;
    private long _written;
    private long _pruned;

    public UsageLog(IUsageStore store, IOptions<UsageLogOptions> options, ILogger<UsageLog> logger)
    {
        (_store, _options, _logger) = (store, options.Value, logger);
        _durable = _options.Enabled && store.IsDurable;
        _heartbeats = new HeartbeatSampler(_options.HeartbeatSampleInterval);
        _buffer = Channel.CreateBounded<UsageEvent>(new BoundedChannelOptions(Math.Max(1, _options.BufferCapacity))
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        }, _ => CountDropped(1));
    }

    /// <summary>Events dropped since start because the buffer was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Events written to the store since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Events waiting to be written.</summary>
    public int Pending => _buffer.Reader.Count;

    /// <summary>Rows deleted by retention since start.</summary>
    public long Pruned => Interlocked.Read(ref _pruned);

    public void Record(UsageEvent usage)
    {
        LicensingTelemetry.Count(usage);
        if (!_durable) return;
        if (usage.LeaseId is { } leaseId)
        {
            switch (usage.Kind)
            {
                case UsageKinds.Heartbeat when !_heartbeats.ShouldLog(leaseId, usage.At):
                    return;
                case UsageKinds.Checkout or UsageKinds.Adoption:
                    _heartbeats.Seen(leaseId, usage.At);
                    break;
                case UsageKinds.Checkin or UsageKinds.Expiry or UsageKinds.Release:
                    _heartbeats.Forget(leaseId);
                    break;
            }
        }

        // Full: DropWrite drops this event and calls the itemDropped callback, which counts it.
        _buffer.Writer.TryWrite(usage);
    }

    private void CountDropped(int count)
    {
        Interlocked.Add(ref _dropped, count);
        LicensingTelemetry.UsageLogDropped.Add(count);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_durable) return;
        var pruning = PruneLoopAsync(stoppingToken);
        await WriteLoopAsync(stoppingToken);
        await pruning;
    }

    private async Task WriteLoopAsync(CancellationToken stoppingToken)
    {
        var batch = new List<UsageEvent>(_options.MaxBatch);
        var reader = _buffer.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                // The first event starts the clock: the batch goes when full or FlushInterval later.
                using (var window = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    window.CancelAfter(_options.FlushInterval);
                    try
                    {
                        while (batch.Count < _options.MaxBatch)
                        {
                            while (batch.Count < _options.MaxBatch && reader.TryRead(out var next)) batch.Add(next);
                            if (batch.Count >= _options.MaxBatch || !await reader.WaitToReadAsync(window.Token)) break;
                        }
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                    }
                }

                await WriteWithRetryAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Stopping: one last attempt for what is buffered, without retries.
        while (reader.TryRead(out var rest)) batch.Add(rest);
        if (batch.Count > 0 && !await TryWriteAsync(batch, CancellationToken.None)) CountDropped(batch.Count);
    }

    /// <summary>Retention: deletes what is older than <see cref="UsageLogOptions.Retention"/>, a batch per statement, every prune interval.</summary>
    private async Task PruneLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                _heartbeats.Sweep(DateTimeOffset.UtcNow);
                if (_options.Retention > TimeSpan.Zero) await PruneOnceAsync(DateTimeOffset.UtcNow - _options.Retention, stoppingToken);
                await Task.Delay(_options.PruneInterval > TimeSpan.FromSeconds(1) ? _options.PruneInterval : TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Deletes every event before <paramref name="before"/>, at most <see cref="UsageLogOptions.PruneBatch"/> rows per statement; the rows deleted.</summary>
    public async Task<long> PruneOnceAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var batch = Math.Max(1, _options.PruneBatch);
        long total = 0;
        try
        {
            int deleted;
            do
            {
                deleted = await _store.PruneAsync(before, batch, cancellationToken);
                total += deleted;
                Interlocked.Add(ref _pruned, deleted);
            }
            while (deleted >= batch);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogPruneFailed(e);
        }

        return total;
    }

    private async Task WriteWithRetryAsync(List<UsageEvent> batch, CancellationToken stoppingToken)
    {
        var delay = _options.RetryDelay;
        while (!await TryWriteAsync(batch, stoppingToken))
        {
            await Task.Delay(delay, stoppingToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }

    private async Task<bool> TryWriteAsync(List<UsageEvent> batch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await _store.WriteAsync(batch, cancellationToken);
            LicensingTelemetry.UsageLogWriteDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            LicensingTelemetry.UsageLogBatchSize.Record(batch.Count);
            Interlocked.Add(ref _written, batch.Count);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogWriteFailed(e, batch.Count, _buffer.Reader.Count);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not prune the usage log; trying again at the next prune interval")]
    private partial void LogPruneFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write {Count} usage events ({Pending} more waiting); retrying")]
    private partial void LogWriteFailed(Exception e, int count, int pending);
}
