using Npgsql;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// What a team writes first: a PostgreSQL row per code with the in-use count, a row per lease. A checkout is one
/// statement (one implicit transaction, one round trip): the conditional update of the count and the insert of the
/// lease; a check-in deletes the lease and decrements the count. synchronous_commit makes both durable before the
/// answer.
/// </summary>
internal sealed class PostgresCounter(string connectionString, int poolSize) : Contender
{
    private const string CheckoutSql = """
        WITH u AS (UPDATE bench_counter SET in_use = in_use + 1 WHERE code = $1 AND in_use + 1 <= seats RETURNING code)
        INSERT INTO bench_lease (id, code, client) SELECT $2, code, $3 FROM u
        """;

    private const string CheckinSql = """
        WITH d AS (DELETE FROM bench_lease WHERE id = $1 RETURNING code)
        UPDATE bench_counter SET in_use = in_use - 1 WHERE code IN (SELECT code FROM d)
        """;

    private readonly NpgsqlDataSource _source = new NpgsqlDataSourceBuilder(
        new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = poolSize, MaxAutoPrepare = 8, AutoPrepareMinUsages = 1, NoResetOnClose = true }.ConnectionString).Build();

    private IReadOnlyList<string> _codes = [];

    public override string Name => "postgres-counter";

    public override string Description =>
        $"Npgsql {typeof(NpgsqlConnection).Assembly.GetName().Version}, pool of up to {poolSize} connections (auto-prepared statements, no reset on close); checkout = one statement (conditional UPDATE bench_counter ... WHERE in_use + 1 <= seats, INSERT bench_lease), check-in = DELETE bench_lease + decrement";

    public override IReadOnlyList<int> StoreProcesses => ProcessMemory.PostgresProcesses();

    public override async Task SetUpAsync(IReadOnlyList<string> codes, int seats)
    {
        _codes = codes;
        await using var connection = await _source.OpenConnectionAsync();
        await using var create = new NpgsqlCommand("""
            CREATE TABLE IF NOT EXISTS bench_counter (code text PRIMARY KEY, in_use integer NOT NULL, seats integer NOT NULL, CHECK (in_use >= 0 AND in_use <= seats));
            CREATE TABLE IF NOT EXISTS bench_lease (id uuid PRIMARY KEY, code text NOT NULL, client text NOT NULL);
            """, connection);
        await create.ExecuteNonQueryAsync();
        foreach (var code in codes)
        {
            await using var insert = new NpgsqlCommand("INSERT INTO bench_counter (code, in_use, seats) VALUES ($1, 0, $2)", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = code });
            insert.Parameters.Add(new NpgsqlParameter { Value = seats });
            await insert.ExecuteNonQueryAsync();
        }
    }

    public override async Task<Func<Task>?> CheckoutAsync(int client, string code)
    {
        var id = Guid.NewGuid();
        await using (var checkout = _source.CreateCommand(CheckoutSql))
        {
            checkout.Parameters.Add(new NpgsqlParameter { Value = code });
            checkout.Parameters.Add(new NpgsqlParameter { Value = id });
            checkout.Parameters.Add(new NpgsqlParameter { Value = $"client-{client}" });
            if (await checkout.ExecuteNonQueryAsync() != 1) return null;
        }

        return async () =>
        {
            await using var checkin = _source.CreateCommand(CheckinSql);
            checkin.Parameters.Add(new NpgsqlParameter { Value = id });
            if (await checkin.ExecuteNonQueryAsync() != 1) throw new InvalidOperationException($"lease {id} was not checked in");
        };
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await using var connection = await _source.OpenConnectionAsync();
            foreach (var code in _codes)
            {
                foreach (var sql in new[] { "DELETE FROM bench_lease WHERE code = $1", "DELETE FROM bench_counter WHERE code = $1" })
                {
                    await using var delete = new NpgsqlCommand(sql, connection);
                    delete.Parameters.Add(new NpgsqlParameter { Value = code });
                    await delete.ExecuteNonQueryAsync();
                }
            }
        }
        finally
        {
            await _source.DisposeAsync();
        }
    }
}
