using System.Diagnostics;
using System.Net;
using System.Text;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// A heartbeat shares the lease's remaining life among the servers it still has to try: two hung servers (paused, say)
/// must not use up the time the third one needed. With 3 s attempts and a 3 s lease, trying the two hung servers in
/// full would reach the live one only after the lease expired. (Unit test: the three "servers" are a stub handler; the
/// fault schedules on real processes pause two servers at once.)
/// </summary>
public sealed class ClientRenewalBudgetTests
{
    private static readonly Uri A = new("http://server-a.test/");
    private static readonly Uri B = new("http://server-b.test/");
    private static readonly Uri C = new("http://server-c.test/");

    [Fact]
    public async Task A_heartbeat_past_two_hung_servers_reaches_the_third_before_the_lease_expires()
    {
        var stub = new Stub();
        var client = StubbedClient.Create(stub, o => o.AttemptTimeout = TimeSpan.FromSeconds(3), A, B, C);
        var clock = Stopwatch.StartNew();
        await using var lease = await client.AcquireAsync("CAD-1");
        var renewed = new TaskCompletionSource<(TimeSpan At, LeaseRenewedEventArgs Args)>(TaskCreationOptions.RunContinuationsAsynchronously);
        lease.Renewed += (_, e) => renewed.TrySetResult((clock.Elapsed, e));

        var (at, args) = await renewed.Task.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(args.FailedOver);
        Assert.Equal("server-c", args.Lease.ServerId);
        Assert.True(at < TimeSpan.FromSeconds(Stub.TtlSeconds), $"renewed at {at.TotalSeconds:0.00} s, after the {Stub.TtlSeconds} s lease expired");
        Assert.False(lease.IsLost);
        Assert.Equal(["POST server-a.test", "PUT server-a.test", "PUT server-b.test", "PUT server-c.test"], stub.Calls.Take(4));
    }

    private sealed class Stub : HttpMessageHandler
    {
        public const int TtlSeconds = 3;

        public List<string> Calls { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var host = request.RequestUri!.Host;
            lock (Calls) Calls.Add($"{request.Method} {host}");
            if (request.Method == HttpMethod.Post) return Lease(HttpStatusCode.Created, "server-a");
            if (host != C.Host) await Task.Delay(Timeout.Infinite, cancellationToken);   // hung: paused, not refusing
            return Lease(HttpStatusCode.OK, "server-c");
        }

        private static HttpResponseMessage Lease(HttpStatusCode status, string serverId)
        {
            var now = DateTimeOffset.UtcNow;
            var json = $$"""
                {"leaseId":"lease-1","code":"CAD-1","clientId":"retry-test","count":1,"serverId":"{{serverId}}",
                 "expiresAt":"{{now.AddSeconds(TtlSeconds):O}}","renewAfter":"{{now.AddSeconds(0.5):O}}","ttlSeconds":{{TtlSeconds}},"renewAfterSeconds":0.5}
                """;
            return new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        }
    }
}
