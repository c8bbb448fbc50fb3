using Npgsql;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>What a test run left in PostgreSQL: Orleans' membership rows (by ClusterId) and grain storage rows (by ServiceId).</summary>
public static class PostgresRows
{
    /// <summary>"siloName=Status" (Orleans' SiloStatus numbers: 3 Active, 6 Dead) of every membership row of the cluster.</summary>
    public static async Task<List<string>> MembershipAsync(string connectionString, string clusterId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT SiloName, Status FROM OrleansMembershipTable WHERE DeploymentId = @d ORDER BY SiloName, Generation", connection);
        command.Parameters.AddWithValue("d", clusterId);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add($"{reader.GetString(0)}={StatusName(reader.GetInt32(1))}");
        return rows;
    }

    /// <summary>The status of the newest membership row (highest generation) of one server, or null before it ever joined.</summary>
    public static async Task<string?> LatestStatusAsync(string connectionString, string clusterId, string serverId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = @d AND SiloName = @n ORDER BY Generation DESC LIMIT 1", connection);
        command.Parameters.AddWithValue("d", clusterId);
        command.Parameters.AddWithValue("n", serverId);
        return await command.ExecuteScalarAsync() is int status ? StatusName(status) : null;
    }

    public static async Task<long> StorageRowsAsync(string connectionString, string serviceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM licensing_grain_state WHERE service_id = @s", connection);
        command.Parameters.AddWithValue("s", serviceId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Removes the run's rows, so that the shared test database does not grow with every run.</summary>
    public static async Task DeleteAsync(string connectionString, string clusterId, string serviceId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "DELETE FROM OrleansMembershipTable WHERE DeploymentId = @d; DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @d; " +
            "DELETE FROM licensing_grain_state WHERE service_id = @s;", connection);
        command.Parameters.AddWithValue("d", clusterId);
        command.Parameters.AddWithValue("s", serviceId);
        await command.ExecuteNonQueryAsync();
    }

    private static string StatusName(int status) => status switch
    {
        0 => "None", 1 => "Created", 2 => "Joining", 3 => "Active", 4 => "ShuttingDown", 5 => "Stopping", 6 => "Dead",
        _ => status.ToString(),
    };
}
