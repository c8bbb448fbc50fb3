using Microsoft.Data.Sqlite;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Licensing.Storage;

/// <summary>
/// The embedded durable store: Orleans grain storage in one SQLite file. Each record carries a version that is its
/// ETag; a write with a stale ETag throws <see cref="InconsistentStateException"/>, which is what stops a stale
/// duplicate activation. Commits are fsynced (synchronous=FULL) before a write returns.
/// </summary>
public sealed class SqliteGrainStorage : IGrainStorage
{
    private readonly string _connectionString;
    private readonly Serializer _serializer;
    private readonly Lazy<Task> _schema;

    public SqliteGrainStorage(string path, Serializer serializer)
    {
        SqliteFiles.Prepare(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _serializer = serializer;
        _schema = new Lazy<Task>(CreateSchemaAsync);
    }

    private async Task CreateSchemaAsync()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS grain_state (
                grain_id   TEXT    NOT NULL,
                state_name TEXT    NOT NULL,
                version    INTEGER NOT NULL,
                payload    BLOB    NOT NULL,
                PRIMARY KEY (grain_id, state_name)
            ) WITHOUT ROWID;
            """;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<SqliteConnection> OpenAsync()
    {
        await _schema.Value;
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=FULL;";
        await pragma.ExecuteNonQueryAsync();
        return connection;
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, payload FROM grain_state WHERE grain_id = $g AND state_name = $s";
        command.Parameters.AddWithValue("$g", grainId.ToString());
        command.Parameters.AddWithValue("$s", stateName);
        await using var reader = await command.ExecuteReaderAsync();
        if (await reader.ReadAsync())
        {
            grainState.ETag = reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.State = _serializer.Deserialize<T>((byte[])reader.GetValue(1));
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.State = Activator.CreateInstance<T>();
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // Serialize before the first await: the caller may change its state once this method yields.
        var payload = _serializer.SerializeToArray(grainState.State);
        var expected = grainState.ETag;
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$g", grainId.ToString());
        command.Parameters.AddWithValue("$s", stateName);
        command.Parameters.AddWithValue("$p", payload);
        long next;
        if (expected is null)
        {
            next = 1;
            command.CommandText = """
                INSERT INTO grain_state (grain_id, state_name, version, payload) VALUES ($g, $s, 1, $p)
                ON CONFLICT (grain_id, state_name) DO NOTHING
                """;
        }
        else
        {
            var version = long.Parse(expected, System.Globalization.CultureInfo.InvariantCulture);
            next = version + 1;
            command.Parameters.AddWithValue("$v", version);
            command.CommandText = """
                UPDATE grain_state SET version = version + 1, payload = $p
                WHERE grain_id = $g AND state_name = $s AND version = $v
                """;
        }

        if (await command.ExecuteNonQueryAsync() != 1)
        {
            throw new InconsistentStateException(
                $"Version conflict writing {stateName} of {grainId}: expected {expected ?? "no record"}.",
                await StoredVersionAsync(connection, grainId, stateName) ?? "none",
                expected ?? "none");
        }

        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM grain_state WHERE grain_id = $g AND state_name = $s AND version = $v";
        command.Parameters.AddWithValue("$g", grainId.ToString());
        command.Parameters.AddWithValue("$s", stateName);
        command.Parameters.AddWithValue("$v", grainState.ETag is null ? 0L : long.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture));
        if (grainState.ETag is not null && await command.ExecuteNonQueryAsync() != 1)
        {
            throw new InconsistentStateException(
                $"Version conflict clearing {stateName} of {grainId}.",
                await StoredVersionAsync(connection, grainId, stateName) ?? "none",
                grainState.ETag);
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    private static async Task<string?> StoredVersionAsync(SqliteConnection connection, GrainId grainId, string stateName)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM grain_state WHERE grain_id = $g AND state_name = $s";
        command.Parameters.AddWithValue("$g", grainId.ToString());
        command.Parameters.AddWithValue("$s", stateName);
        return (await command.ExecuteScalarAsync())?.ToString();
    }
}
