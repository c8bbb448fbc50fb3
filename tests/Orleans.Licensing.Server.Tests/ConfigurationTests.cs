using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

[Trait("Category", "Process")]
public sealed class ConfigurationTests
{
    [Fact]
    public async Task A_postgresql_connection_string_is_refused_at_startup_until_that_mode_exists()
    {
        var data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
        await using var server = new ServerProcess("pg", data, settings: new Dictionary<string, string>
        {
            ["ConnectionStrings__Licensing"] = "Host=127.0.0.1;Database=licensing",
        });

        var e = await Assert.ThrowsAsync<InvalidOperationException>(server.StartAsync);

        Assert.Contains("exited", e.Message);
        Assert.Contains("PostgreSQL clustering and storage are not supported by this build yet", server.Log);
        Assert.False(File.Exists(Path.Combine(data, "licensing.db")));
        PoolFixture.TryDelete(data);
    }

    [Fact]
    public async Task A_server_id_with_a_slash_is_refused_at_startup()
    {
        var data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
        await using var server = new ServerProcess("a/b", data);

        await Assert.ThrowsAsync<InvalidOperationException>(server.StartAsync);

        Assert.Contains("must be non-empty and contain no '/'", server.Log);
        PoolFixture.TryDelete(data);
    }
}
