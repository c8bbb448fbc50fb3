using Npgsql;
using NpgsqlTypes;

namespace Orleans.Licensing.Usage;

/// <summary>The usage log in PostgreSQL (table <c>licensing_usage_log</c> of sql/050): a batch is one binary COPY.</summary>
public sealed class PostgresUsageStore(string connectionString, string serviceId) : IUsageStore
{
    public bool IsDurable => true;

    public async Task WriteAsync(IReadOnlyList<UsageEvent> batch, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY licensing_usage_log (service_id, at, kind, code, server_id, client_id, count, lease_id, detail, actor, owner_user, owner_host) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var e in batch)
        {
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(serviceId, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteAsync(e.At.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await copy.WriteAsync(e.Kind, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteAsync(e.Code, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteAsync(e.ServerId, NpgsqlDbType.Varchar, cancellationToken);
            await WriteNullableAsync(copy, e.ClientId, NpgsqlDbType.Varchar, cancellationToken);
            await copy.WriteAsync(e.Count, NpgsqlDbType.Integer, cancellationToken);
            await WriteNullableAsync(copy, e.LeaseId, NpgsqlDbType.Varchar, cancellationToken);
            await WriteNullableAsync(copy, e.Detail, NpgsqlDbType.Text, cancellationToken);
            await WriteNullableAsync(copy, e.Actor, NpgsqlDbType.Varchar, cancellationToken);
            await WriteNullableAsync(copy, e.OwnerUser, NpgsqlDbType.Varchar, cancellationToken);
            await WriteNullableAsync(copy, e.OwnerHost, NpgsqlDbType.Varchar, cancellationToken);
        }

        await copy.CompleteAsync(cancellationToken);
    }

    public async Task<int> PruneAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            DELETE FROM licensing_usage_log WHERE id IN
              (SELECT id FROM licensing_usage_log WHERE service_id = $1 AND at < $2 ORDER BY at LIMIT $3)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = serviceId, NpgsqlDbType = NpgsqlDbType.Varchar });
        command.Parameters.Add(new NpgsqlParameter { Value = before.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = limit, NpgsqlDbType = NpgsqlDbType.Integer });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, type, cancellationToken);

    public async Task<IReadOnlyList<UsageEvent>> QueryAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            SELECT at, kind, code, server_id, client_id, count, lease_id, detail, actor, owner_user, owner_host FROM licensing_usage_log
            WHERE service_id = $1 AND ($2::varchar IS NULL OR code = $2) AND ($3::timestamptz IS NULL OR at >= $3)
              AND ($4::timestamptz IS NULL OR at < $4) AND ($5::varchar[] IS NULL OR kind = ANY($5))
            ORDER BY {(query.NewestFirst ? "at DESC, id DESC" : "at, id")} LIMIT $6
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = serviceId, NpgsqlDbType = NpgsqlDbType.Varchar });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)query.Code ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Varchar });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)query.Since?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)query.Until?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = query.Kinds is { Count: > 0 } k ? k.ToArray() : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Varchar });
        command.Parameters.Add(new NpgsqlParameter { Value = query.Limit, NpgsqlDbType = NpgsqlDbType.Integer });
        var events = new List<UsageEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new UsageEvent(
                new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10)));
        }

        return events;
    }
}
