using System.Diagnostics;
using Npgsql;

namespace Orleans.Licensing.Benchmarks;

/// <summary>The local PostgreSQL the benchmarks use: started and given the schema of sql/ when it is not yet.</summary>
internal static class Postgres
{
    // No TLS on loopback (Npgsql would otherwise negotiate it with Debian's default snakeoil certificate): it cost every
    // PostgreSQL contender alike ~4 % of the machine in a profile, and measures nothing about the contenders.
    public const string Local = "Host=127.0.0.1;Port=5432;Username=licensing;Password=licensing;Database=licensing;SSL Mode=Disable";

    public static string DefaultConnectionString() => Environment.GetEnvironmentVariable("LICENSING_TEST_POSTGRES") ?? Local;

    /// <summary>Starts the local PostgreSQL service when it does not answer, and applies sql/ when its tables are missing.</summary>
    public static async Task EnsureReadyAsync(string connectionString)
    {
        if (!await AnswersAsync(connectionString))
        {
            Console.WriteLine("PostgreSQL does not answer: `service postgresql start` (as .ci/run does)");
            using (var start = Process.Start(new ProcessStartInfo("service", "postgresql start") { UseShellExecute = false }))
            {
                if (start is not null) await start.WaitForExitAsync();
            }

            var until = DateTime.UtcNow.AddSeconds(60);
            while (!await AnswersAsync(connectionString))
            {
                if (DateTime.UtcNow > until) throw new InvalidOperationException("PostgreSQL did not start; run `bash .ci/run` once to install and set it up.");
                await Task.Delay(1000);
            }
        }

        await EnsureRoleAndDatabaseAsync(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var check = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE tablename IN ('orleansquery', 'licensing_grain_state', 'orleansmembershiptable')", connection);
        if ((long)(await check.ExecuteScalarAsync())! == 3) return;

        var sql = Path.Combine(RepositoryRoot(), "sql");
        Console.WriteLine($"applying {sql}");
        foreach (var file in Directory.GetFiles(sql, "*.sql").Order(StringComparer.Ordinal))
        {
            await using var apply = new NpgsqlCommand(await File.ReadAllTextAsync(file), connection);
            await apply.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// A fresh machine has PostgreSQL but not our role or database (.ci/run creates them): create them the way .ci/run
    /// does, as the postgres superuser over its local socket (<c>runuser -u postgres -- psql</c>).
    /// </summary>
    private static async Task EnsureRoleAndDatabaseAsync(string connectionString)
    {
        try
        {
            await using var probe = new NpgsqlConnection(connectionString);
            await probe.OpenAsync();
            return;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification or PostgresErrorCodes.InvalidCatalogName)
        {
            Console.WriteLine($"PostgreSQL refused the connection ({e.SqlState}: {e.MessageText}): creating the role and database as .ci/run does");
        }

        var b = new NpgsqlConnectionStringBuilder(connectionString);
        string Literal(string? v) => "'" + (v ?? "").Replace("'", "''", StringComparison.Ordinal) + "'";
        string Name(string? v) => "\"" + (v ?? "").Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        var sql = $"""
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {Literal(b.Username)}) THEN
                    CREATE ROLE {Name(b.Username)} LOGIN PASSWORD {Literal(b.Password)};
                END IF;
            END
            $$;
            SELECT 'CREATE DATABASE {Name(b.Database)} OWNER {Name(b.Username)}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {Literal(b.Database)})\gexec
            """;
        var start = new ProcessStartInfo("runuser", ["-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-q"])
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true, WorkingDirectory = "/",
        };
        using var psql = Process.Start(start) ?? throw new InvalidOperationException("could not start runuser");
        await psql.StandardInput.WriteAsync(sql);
        psql.StandardInput.Close();
        var error = await psql.StandardError.ReadToEndAsync();
        await psql.WaitForExitAsync();
        if (psql.ExitCode != 0) throw new InvalidOperationException($"creating role and database failed ({psql.ExitCode}): {error}; run `bash .ci/run` once instead.");
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.Licensing.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("Orleans.Licensing.sln not found above " + AppContext.BaseDirectory);
    }

    private static async Task<bool> AnswersAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            return true;
        }
        catch (PostgresException)
        {
            // The server answered, with an error (e.g. no such role or database on a fresh machine): it is running.
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return false;
        }
    }
}
