using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace Orleans.Licensing.Storage;

/// <summary>One conditional write of a grain state: a first insert (no version), an update of that version, or a clear (no payload).</summary>
internal readonly record struct StateWrite(string GrainId, string StateName, int? ExpectedVersion, byte[]? Payload);

/// <summary>
/// Group commit across the grains of a silo: every write waiting when a batch starts goes out in that batch, one round
/// trip and one transaction (so one WAL flush) for all of them. Each write still only changes its row if the version it
/// names is the stored one, and hears whether it did; a batch that fails as a whole (connection lost, server down)
/// fails every write in it, and none of them is acknowledged.
/// </summary>
internal sealed class PostgresWriteBatcher : IAsyncDisposable
{
    private const string InsertSql =
        "INSERT INTO licensing_grain_state (service_id, grain_id, state_name, version, payload) VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING";

    private const string UpdateSql =
        "UPDATE licensing_grain_state SET version = version + 1, payload = $4, modified_on = now() " +
        "WHERE service_id = $1 AND grain_id = $2 AND state_name = $3 AND version = $5";

    private readonly string _connectionString;
    private readonly string _serviceId;
    private readonly int _maxBatch;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
    private readonly Task[] _writers;
    private long _batches;
    private long _writes;

    public PostgresWriteBatcher(string connectionString, string serviceId, int maxBatch, int concurrentBatches)
    {
        _connectionString = connectionString;
        _serviceId = serviceId;
        _maxBatch = maxBatch;
        _writers = [.. Enumerable.Range(0, concurrentBatches).Select(_ => Task.Run(WriteBatchesAsync))];
    }

    /// <summary>Batches sent and writes in them, since start.</summary>
    public (long Batches, long Writes) Sent => (Interlocked.Read(ref _batches), Interlocked.Read(ref _writes));

    /// <summary>True when the row changed; false when its version was not the expected one (or, for an insert, it existed).</summary>
    public Task<bool> WriteAsync(StateWrite write)
    {
        var pending = new Pending(write, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(PostgresWriteBatcher), "The grain storage is shutting down.");
        return pending.Done.Task;
    }

    private async Task WriteBatchesAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var pending)) batch.Add(pending);
            if (batch.Count == 0) continue;
            try
            {
                var changed = await ExecuteAsync(batch);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(changed[i]);
            }
            catch (Exception e)
            {
                foreach (var pending in batch) pending.Done.TrySetException(e);
            }
        }
    }

    private async Task<bool[]> ExecuteAsync(List<Pending> batch)
    {
        // Rows in one order in every batch (stable, so two writes of one row keep theirs): concurrent batches of this
        // silo or of a stale duplicate activation elsewhere never wait on each other in a cycle.
        var order = Enumerable.Range(0, batch.Count)
            .OrderBy(i => batch[i].Write.GrainId, StringComparer.Ordinal)
            .ThenBy(i => batch[i].Write.StateName, StringComparer.Ordinal)
            .ToArray();

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlBatch(connection);   // one Sync at the end: one implicit transaction
        foreach (var i in order) command.BatchCommands.Add(Command(batch[i].Write));
        await command.ExecuteNonQueryAsync();

        var changed = new bool[batch.Count];
        for (var k = 0; k < order.Length; k++) changed[order[k]] = command.BatchCommands[k].RecordsAffected == 1;
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _writes, batch.Count);
        return changed;
    }

    private NpgsqlBatchCommand Command(StateWrite write)
    {
        var command = new NpgsqlBatchCommand(write.ExpectedVersion is null ? InsertSql : UpdateSql);
        AddKey(command.Parameters, _serviceId, write.GrainId, write.StateName);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = (object?)write.Payload ?? DBNull.Value });
        if (write.ExpectedVersion is { } version) command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
        return command;
    }

    /// <summary>$1, $2, $3 of every statement on the table: the row's key.</summary>
    internal static void AddKey(NpgsqlParameterCollection parameters, string serviceId, string grainId, string stateName)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = serviceId });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
    }

    public async ValueTask DisposeAsync()
    {
        // Writes already queued still go out; new ones are refused.
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
    }

    private sealed record Pending(StateWrite Write, TaskCompletionSource<bool> Done);
}
