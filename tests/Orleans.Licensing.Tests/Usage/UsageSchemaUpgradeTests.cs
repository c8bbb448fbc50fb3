using Microsoft.Data.Sqlite;
using Npgsql;
using Orleans.Licensing.Usage;

namespace Orleans.Licensing.Tests.Usage;

/// <summary>
/// The usage log's new columns (actor, owner_user, owner_host) arrive in place: a table or file written by an older
/// server keeps its rows and gains the columns, and the stores write and read the new fields.
/// </summary>
public sealed class UsageSchemaUpgradeTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly UsageEvent Release = new(At.AddMinutes(1), UsageKinds.Release, "C", "s1", "ws-17", 2, "L1", "stuck", "test-admin", "ada", "ws-17.example");

    [Fact]
    public async Task An_old_sqlite_file_gains_the_columns_and_keeps_its_rows()
    {
        var path = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"), "usage.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            // The table as servers before the new columns made it.
            create.CommandText = """
                CREATE TABLE usage_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, kind TEXT NOT NULL, code TEXT NOT NULL,
                    server_id TEXT NOT NULL, client_id TEXT NULL, count INTEGER NOT NULL, lease_id TEXT NULL, detail TEXT NULL);
                INSERT INTO usage_log (at_ms, kind, code, server_id, client_id, count, lease_id, detail) VALUES (1796126400000, 'checkout', 'C', 's1', 'ws-17', 2, 'L1', NULL);
                """;
            await create.ExecuteNonQueryAsync();
        }

        var store = new SqliteUsageStore(path);
        await store.WriteAsync([Release], CancellationToken.None);
        var events = await store.QueryAsync(new UsageQuery("C", null, null, null, 10), CancellationToken.None);

        Assert.Equal(2, events.Count);
        Assert.Equal(("checkout", null, null, null), (events[0].Kind, events[0].Actor, events[0].OwnerUser, events[0].OwnerHost));
        Assert.Equal(Release, events[1]);

        // A second open (the next server start) finds the columns there and adds nothing.
        Assert.Equal(2, (await new SqliteUsageStore(path).QueryAsync(new UsageQuery("C", null, null, null, 10), CancellationToken.None)).Count);
    }

    [PostgresFact]
    [Trait("Category", "Postgres")]
    public async Task The_sql_file_upgrades_an_old_postgres_table_in_place_and_runs_again_harmlessly()
    {
        var schema = "upgrade_" + Guid.NewGuid().ToString("N")[..12];
        var admin = TestStorage.PostgresConnectionString!;
        await ExecuteAsync(admin, $"CREATE SCHEMA {schema}");
        try
        {
            var inSchema = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema, Pooling = false }.ConnectionString;
            // The table as sql/050 made it before the new columns, with a row in it.
            await ExecuteAsync(inSchema, """
                CREATE TABLE licensing_usage_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, service_id varchar(150) NOT NULL,
                    at timestamptz NOT NULL, kind varchar(32) NOT NULL, code varchar(200) NOT NULL, server_id varchar(256) NOT NULL,
                    client_id varchar(256) NULL, count integer NOT NULL, lease_id varchar(128) NULL, detail text NULL);
                INSERT INTO licensing_usage_log (service_id, at, kind, code, server_id, client_id, count, lease_id)
                    VALUES ('svc', '2026-12-01T12:00:00Z', 'checkout', 'C', 's1', 'ws-17', 2, 'L1');
                """);
            var sql = await File.ReadAllTextAsync(SqlFile());
            await ExecuteAsync(inSchema, sql);
            await ExecuteAsync(inSchema, sql);

            var store = new PostgresUsageStore(inSchema, "svc");
            await store.WriteAsync([Release], CancellationToken.None);
            var events = await store.QueryAsync(new UsageQuery("C", null, null, null, 10), CancellationToken.None);
            Assert.Equal(2, events.Count);
            Assert.Equal(("checkout", null), (events[0].Kind, events[0].Actor));
            Assert.Equal(Release, events[1]);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP SCHEMA {schema} CASCADE");
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string SqlFile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "sql", "050-usage-log.sql");
            if (File.Exists(candidate)) return candidate;
        }

        throw new FileNotFoundException("sql/050-usage-log.sql not found above " + AppContext.BaseDirectory);
    }
}
