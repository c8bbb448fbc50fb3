using System.Net;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// A 503 from an Orleans failure tells the client to retry, and nothing of the pool's insides: no silo address, no grain
/// id, no Orleans type or stack text (the full exception is in the server's log). Two real servers; one is paused
/// (SIGSTOP) so that a call to its grain times out inside Orleans.
/// </summary>
[Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class ProblemDetailsTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
    private ServerProcess _primary = null!;
    private ServerProcess _second = null!;

    public async Task InitializeAsync()
    {
        _primary = new ServerProcess("primary", _data);
        await _primary.StartAsync();
        _second = new ServerProcess("second", _data, _primary.SiloPort);
        await _second.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _second.Resume();
        await _second.DisposeAsync();
        await _primary.DisposeAsync();
        PoolFixture.TryDelete(_data);
    }

    [Fact]
    public async Task A_503_from_an_orleans_failure_does_not_echo_silo_addresses_grain_ids_or_orleans_text()
    {
        var code = PoolFixture.NewCode("LEAK");
        using var http = _primary.CreateHttpClient(timeout: TimeSpan.FromSeconds(120));
        Assert.Equal(HttpStatusCode.Created, (await http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$$"""{"grant":"{{{TestSecurity.CodeGrant(code, 4)}}}","distribution":{"even":true}}""")).Status);
        await Until.TrueAsync(async () => (await http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}")).Body?["servers"]?.AsArray().Count == 2,
            TimeSpan.FromSeconds(30), "both servers in the table");

        _second.Pause();
        // A check-in at the paused server: the primary calls its server grain there, and Orleans gives up on it.
        var answer = await http.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/some-lease?clientId=ws-1&serverId=second");

        AssertProblem(answer, HttpStatusCode.ServiceUnavailable, "unavailable");
        var body = answer.Body!.ToJsonString();
        foreach (var inside in new[] { "S127.0.0.1:", $"127.0.0.1:{_second.SiloPort}", "second/" + code, "Orleans.", "ServerGrain", "   at ", "sys.", "GrainId" })
        {
            Assert.DoesNotContain(inside, body);
        }

        Assert.Contains("Retry", answer.Response.Headers.ToString());
    }
}
