using System.Net;
using System.Text;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// A grant whose answer was lost: the SDK sends it to the next server, which says it was applied before. After an
/// attempt that may have reached a server that is success (the license as it is now); with no server reached before,
/// it is a real replay. (Unit test: the two "servers" are a stub handler.)
/// </summary>
public sealed class ClientGrantRetryTests
{
    private static readonly Uri A = new("http://server-a.test/");
    private static readonly Uri B = new("http://server-b.test/");

    [Fact, Trait("Claim", "9")]
    public async Task A_replayed_grant_after_an_attempt_that_may_have_reached_a_server_answers_the_license()
    {
        var stub = new Stub(a: _ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        var license = await Client(stub).AddAllocationsAsync("CAD-1", TestSecurity.AllocationsGrant("CAD-1", 5));
        Assert.Equal(("CAD-1", 15), (license.Code, license.Seats));
        Assert.Equal(["POST server-a.test", "POST server-b.test", "GET server-b.test"], stub.Calls);

        stub.Calls.Clear();
        var added = await Client(stub).AddLicenseAsync(TestSecurity.License("CAD-1", 10));
        Assert.Equal("CAD-1", added.Code);
        Assert.Equal(["POST server-a.test", "POST server-b.test", "GET server-b.test"], stub.Calls);
    }

    [Fact]
    public async Task A_replayed_grant_when_no_server_was_reached_before_is_a_refusal()
    {
        var stub = new Stub(a: _ => throw new HttpRequestException(HttpRequestError.ConnectionError, "connection refused"));
        var refused = await Assert.ThrowsAsync<LicensingProblemException>(() => Client(stub).AddAllocationsAsync("CAD-1", TestSecurity.AllocationsGrant("CAD-1", 5)));
        Assert.Equal(("grant-replayed", 409), (refused.Error, refused.Status));
        Assert.Equal(["POST server-a.test", "POST server-b.test"], stub.Calls);
    }

    private static LicensingClient Client(Stub stub) => StubbedClient.Create(stub, A, B);

    private sealed class Stub(Func<HttpRequestMessage, HttpResponseMessage> a) : HttpMessageHandler
    {
        public List<string> Calls { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Calls) Calls.Add($"{request.Method} {request.RequestUri!.Host}");
            if (request.RequestUri!.Host == A.Host) return Task.FromResult(a(request));
            if (request.Method == HttpMethod.Get)
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new StringContent(
                        """{"code":"CAD-1","product":"P","seats":15,"expiresAt":null,"freePool":5,"version":2,"leader":"b","servers":[]}""",
                        Encoding.UTF8, "application/json"),
                });
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Conflict)
            {
                Content = new StringContent(
                    """{"type":"https://orleans-licensing.dev/problems/grant-replayed","title":"Applied before","status":409,"detail":"applied before","error":"grant-replayed"}""",
                    Encoding.UTF8, "application/problem+json"),
            });
        }
    }
}
