using System.Net;
using System.Text;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// A check-in whose answer was lost: the SDK tries the next server, which finds the lease gone. That is success when
/// the first attempt may have reached a server, and a refusal when no server was ever reached. (Unit test: the two
/// "servers" are a stub handler; the real path is covered by the rolling-restart test on PostgreSQL.)
/// </summary>
public sealed class ClientCheckinRetryTests
{
    private static readonly Uri A = new("http://server-a.test/");
    private static readonly Uri B = new("http://server-b.test/");

    [Fact]
    public async Task A_lease_unknown_after_an_attempt_that_may_have_reached_a_server_is_a_completed_check_in()
    {
        var stub = new Stub(a: _ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        await Client(stub).CheckinAsync("CAD-1", "lease-1", "server-a");
        Assert.Equal(["DELETE server-a.test", "DELETE server-b.test"], stub.Calls);
    }

    [Fact]
    public async Task A_lease_unknown_when_no_server_was_reached_before_is_a_refusal()
    {
        var stub = new Stub(a: _ => throw new HttpRequestException(HttpRequestError.ConnectionError, "connection refused"));
        var refused = await Assert.ThrowsAsync<LicensingProblemException>(() => Client(stub).CheckinAsync("CAD-1", "lease-1", "server-a"));
        Assert.Equal(("lease-unknown", 404), (refused.Error, refused.Status));
        Assert.Equal(["DELETE server-a.test", "DELETE server-b.test"], stub.Calls);
    }

    private static LicensingClient Client(Stub stub) => StubbedClient.Create(stub, A, B);

    private sealed class Stub(Func<HttpRequestMessage, HttpResponseMessage> a) : HttpMessageHandler
    {
        public List<string> Calls { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Calls) Calls.Add($"{request.Method} {request.RequestUri!.Host}");
            if (request.RequestUri!.Host == A.Host) return Task.FromResult(a(request));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound)
            {
                Content = new StringContent(
                    """{"type":"https://orleans-licensing.dev/problems/lease-unknown","title":"Lease unknown","status":404,"detail":"gone"}""",
                    Encoding.UTF8, "application/problem+json"),
            });
        }
    }
}
