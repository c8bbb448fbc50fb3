using Microsoft.Data.Sqlite;

namespace Orleans.Licensing.Usage;

/// <summary>
/// The usage log in the embedded store's SQLite file (table <c>usage_log</c>, beside <c>grain_state</c>): a batch is
/// one transaction. Times are Unix milliseconds, so that ranges are index lookups.
/// </summary>
public sealed class SqliteUsageStore : IUsageStore
{
    private readonly string _connectionString;
    private readonly Lazy<Task> _schema;

    public SqliteUsageStore(string path)
    {
        Orleans.Licensing.Storage.SqliteFiles.Prepare(path);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        _schema = new Lazy<Task>(CreateSchemaAsync);
    }

    public bool IsDurable => true;

    private async Task CreateSchemaAsync()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS usage_log (
                id        INTEGER PRIMARY KEY AUTOINCREMENT,
                at_ms     INTEGER NOT NULL,
                kind      TEXT    NOT NULL,
                code      TEXT    NOT NULL,
                server_id TEXT    NOT NULL,
                client_id TEXT    NULL,
                count     INTEGER NOT NULL,
                lease_id  TEXT    NULL,
                detail    TEXT    NULL
            );
            CREATE INDEX IF NOT EXISTS usage_log_code_at ON usage_log (code, at_ms);
            CREATE INDEX IF NOT EXISTS usage_log_at ON usage_log (at_ms);
            """;
        await command.ExecuteNonQueryAsync();
        await AddMissingColumnsAsync(connection);
    }

    /// <summary>The columns added since the table was first made; a file written by an older server gains them in place.</summary>
    internal static readonly string[] AddedColumns = ["actor", "owner_user", "owner_host"];

    private static async Task AddMissingColumnsAsync(SqliteConnection connection)
    {
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        await using (var info = connection.CreateCommand())
        {
            info.CommandText = "SELECT name FROM pragma_table_info('usage_log')";
            await using var reader = await info.ExecuteReaderAsync();
            while (await reader.ReadAsync()) present.Add(reader.GetString(0));
        }

        foreach (var column in AddedColumns.Where(c => !present.Contains(c)))
        {
            await using var alter = connection.CreateCommand();
            alter.CommandText = $"ALTER TABLE usage_log ADD COLUMN {column} TEXT NULL";
            await alter.ExecuteNonQueryAsync();
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await _schema.Value;
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public async Task WriteAsync(IReadOnlyList<UsageEvent> batch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO usage_log (at_ms, kind, code, server_id, client_id, count, lease_id, detail, actor, owner_user, owner_host)
            VALUES ($at, $kind, $code, $server, $client, $count, $lease, $detail, $actor, $user, $host)
            """;
        var parameters = new[] { "$at", "$kind", "$code", "$server", "$client", "$count", "$lease", "$detail", "$actor", "$user", "$host" }
            .Select(n => command.Parameters.Add(n, SqliteType.Text)).ToArray();
        parameters[0].SqliteType = SqliteType.Integer;
        parameters[5].SqliteType = SqliteType.Integer;
        foreach (var e in batch)
        {
            parameters[0].Value = e.At.ToUnixTimeMilliseconds();
            parameters[1].Value = e.Kind;
            parameters[2].Value = e.Code;
            parameters[3].Value = e.ServerId;
            parameters[4].Value = (object?)e.ClientId ?? DBNull.Value;
            parameters[5].Value = e.Count;
            parameters[6].Value = (object?)e.LeaseId ?? DBNull.Value;
            parameters[7].Value = (object?)e.Detail ?? DBNull.Value;
            parameters[8].Value = (object?)e.Actor ?? DBNull.Value;
            parameters[9].Value = (object?)e.OwnerUser ?? DBNull.Value;
            parameters[10].Value = (object?)e.OwnerHost ?? DBNull.Value;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<int> PruneAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM usage_log WHERE id IN (SELECT id FROM usage_log WHERE at_ms < $before ORDER BY at_ms LIMIT $limit)";
        command.Parameters.AddWithValue("$before", before.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", limit);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<UsageEvent>> QueryAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.Code is { } code)
        {
            where.Add("code = $code");
            command.Parameters.AddWithValue("$code", code);
        }

        if (query.Since is { } since)
        {
            where.Add("at_ms >= $since");
            command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        }

        if (query.Until is { } until)
        {
            where.Add("at_ms < $until");
            command.Parameters.AddWithValue("$until", until.ToUnixTimeMilliseconds());
        }

        if (query.Kinds is { Count: > 0 } kinds)
        {
            where.Add($"kind IN ({string.Join(", ", kinds.Select((_, i) => "$k" + i))})");
            for (var i = 0; i < kinds.Count; i++) command.Parameters.AddWithValue("$k" + i, kinds[i]);
        }

        command.CommandText = "SELECT at_ms, kind, code, server_id, client_id, count, lease_id, detail, actor, owner_user, owner_host FROM usage_log"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + (query.NewestFirst ? " ORDER BY at_ms DESC, id DESC" : " ORDER BY at_ms, id") + " LIMIT $limit";
        command.Parameters.AddWithValue("$limit", query.Limit);
        var events = new List<UsageEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new UsageEvent(
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10)));
        }

        return events;
    }
}
