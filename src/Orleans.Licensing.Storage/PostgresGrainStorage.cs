using System.Globalization;
using Npgsql;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Licensing.Storage;

/// <summary>
/// The pool's grain storage on PostgreSQL (table <c>licensing_grain_state</c> of sql/030). The contract is the one the
/// grains rely on from every store: the row's version is its ETag, a write with a stale ETag (or a first write when a
/// row exists) throws <see cref="InconsistentStateException"/> and changes nothing, a clear keeps the version.
/// Unlike Orleans' ADO.NET provider (one transaction per write), the writes of all grains of this silo that wait at the
/// same moment share one batch and one transaction (<see cref="PostgresWriteBatcher"/>); an acknowledged write is
/// committed, as before.
/// </summary>
public sealed class PostgresGrainStorage : IGrainStorage, IAsyncDisposable
{
    private const string ReadSql =
        "SELECT version, payload FROM licensing_grain_state WHERE service_id = $1 AND grain_id = $2 AND state_name = $3";

    private readonly string _connectionString;
    private readonly string _serviceId;
    private readonly Serializer _serializer;
    private readonly PostgresWriteBatcher _writes;

    public PostgresGrainStorage(string connectionString, string serviceId, Serializer serializer, int maxBatch = 128, int concurrentBatches = 2)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceId);
        // Npgsql's pool for this connection string, shared with ADO.NET clustering (and the other silos of a process):
        // a pool of its own would double the connections a server may hold open.
        _connectionString = connectionString;
        _serviceId = serviceId;
        _serializer = serializer;
        _writes = new PostgresWriteBatcher(connectionString, serviceId, maxBatch, concurrentBatches);
    }

    /// <summary>Write batches sent and the writes in them, since start (what group commit across grains saved).</summary>
    public (long Batches, long Writes) Sent => _writes.Sent;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var row = await ReadRowAsync(grainId, stateName);
        grainState.ETag = row is { } stored ? Tag(stored.Version) : null;
        grainState.RecordExists = row?.Payload is not null;
        grainState.State = row?.Payload is { } payload ? _serializer.Deserialize<T>(payload) : Activator.CreateInstance<T>();
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // Serialized before the first await: the caller may change its state once this method yields.
        var payload = _serializer.SerializeToArray(grainState.State);
        var expected = Version(grainState.ETag);
        if (!await _writes.WriteAsync(new StateWrite(grainId.ToString(), stateName, expected, payload)))
        {
            throw await ConflictAsync("writing", grainId, stateName, grainState.ETag);
        }

        grainState.ETag = Tag(expected + 1 ?? 1);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (Version(grainState.ETag) is { } expected)
        {
            if (!await _writes.WriteAsync(new StateWrite(grainId.ToString(), stateName, expected, Payload: null)))
            {
                throw await ConflictAsync("clearing", grainId, stateName, grainState.ETag);
            }

            grainState.ETag = Tag(expected + 1);
        }

        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    public ValueTask DisposeAsync() => _writes.DisposeAsync();

    private async Task<InconsistentStateException> ConflictAsync(string what, GrainId grainId, string stateName, string? expected)
    {
        var stored = await ReadRowAsync(grainId, stateName) is { } row ? Tag(row.Version) : "none";
        return new InconsistentStateException(
            $"Version conflict {what} {stateName} of {grainId}: expected {expected ?? "no record"}, stored {stored}.", stored, expected ?? "none");
    }

    /// <summary>The stored row: its version, and its payload unless it was cleared. Null when there is no row.</summary>
    private async Task<(int Version, byte[]? Payload)?> ReadRowAsync(GrainId grainId, string stateName)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(ReadSql, connection);
        PostgresWriteBatcher.AddKey(command.Parameters, _serviceId, grainId.ToString(), stateName);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        return (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1));
    }

    private static int? Version(string? etag) => etag is null ? null : int.Parse(etag, CultureInfo.InvariantCulture);

    private static string Tag(int version) => version.ToString(CultureInfo.InvariantCulture);
}
