using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

[Trait("Category", "Process")]
public sealed class ConfigurationTests
{
    [PostgresProcessFact]
    public async Task With_a_postgresql_connection_string_the_server_clusters_and_stores_in_postgresql()
    {
        var data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
        var run = Guid.NewGuid().ToString("N")[..12];
        var (clusterId, serviceId) = ($"solo-cluster-{run}", $"solo-service-{run}");
        var connectionString = PostgresPoolFixture.ConnectionString ?? throw new InvalidOperationException($"CI=true but {PostgresPoolFixture.Variable} is not set.");
        await using var server = new ServerProcess("pg-solo", data, settings: new Dictionary<string, string>
        {
            ["ConnectionStrings__Licensing"] = connectionString,
            ["Licensing__ClusterId"] = clusterId,
            ["Licensing__ServiceId"] = serviceId,
            ["Licensing__AdvertisedAddress"] = "127.0.0.1",
        });

        await server.StartAsync();   // waits for /readyz: an active member (ADO.NET membership) whose storage answers

        using var http = server.CreateHttpClient();
        var servers = await http.SendAsync(HttpMethod.Get, "api/v1/servers");
        var self = Assert.Single(servers.Body!.AsArray());
        Assert.Equal("pg-solo", (string?)self!["serverId"]);
        Assert.Equal("Active", (string?)self["status"]);
        Assert.StartsWith($"127.0.0.1:{server.SiloPort}@", (string?)self["address"]);

        // Membership is the ADO.NET table in PostgreSQL, under this ClusterId and this server id.
        Assert.Equal(["pg-solo=Active"], await PostgresRows.MembershipAsync(connectionString, clusterId));

        // A license code written through this server is read back after a crash (SIGKILL): it lives in PostgreSQL.
        var code = PoolFixture.NewCode("PGS");
        var added = await http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{TestSecurity.CodeGrant(code, 4, "CAD")}}"}""");
        Assert.Equal(System.Net.HttpStatusCode.Created, added.Status);
        await server.KillAsync();
        await server.StartAsync();
        var read = await http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}");
        Assert.True(read.Status == System.Net.HttpStatusCode.OK, $"{read.Status}: {read.Body?.ToJsonString()}\n{server.Log}");
        Assert.Equal(4, read.Body.Int("seats"));
        Assert.Equal(4, read.Body.Share("pg-solo").Int("allocated"));
        Assert.True(await PostgresRows.StorageRowsAsync(connectionString, serviceId) > 0);
        // The restarted server (same id, a new generation) declared its crashed predecessor dead.
        Assert.Equal(["pg-solo=Dead", "pg-solo=Active"], await PostgresRows.MembershipAsync(connectionString, clusterId));

        // Nothing went to the embedded store: PostgreSQL mode never falls back to SQLite.
        Assert.False(File.Exists(Path.Combine(data, "licensing.db")));
        Assert.False(Directory.Exists(Path.Combine(data, "data")));
        await server.KillAsync();
        await PostgresRows.DeleteAsync(connectionString, clusterId, serviceId);
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
