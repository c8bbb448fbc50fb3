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
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return false;
        }
    }
}
