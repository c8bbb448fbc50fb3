using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Server.Tests;

/// <summary>
/// Issue 9, item 5: the SDK schedules renewals from the server's durations on its own monotonic clock, so a server whose
/// clock is 40 s off the client's (the stub below) gets heartbeats on time: not 40 s late, not in a loop. (Unit test:
/// the "server" is a stub handler that renews every lease for 3 s and asks for a heartbeat after 1 s.)
/// </summary>
public sealed class ClientClockSkewTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan RenewAfter = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(-40)]
    [InlineData(0)]
    [InlineData(40)]
    public async Task A_lease_renews_after_renewAfterSeconds_whatever_the_servers_clock_says(int serverClockOffsetSeconds)
    {
        var server = new SkewedServer(TimeSpan.FromSeconds(serverClockOffsetSeconds));
        var client = Client(server);

        var start = Stopwatch.GetTimestamp();
        await using (var lease = await client.AcquireAsync("CAD-1"))
        {
            await Task.Delay(TimeSpan.FromSeconds(2.6));
            Assert.False(lease.IsLost);
            Assert.InRange(lease.TimeToLive, TimeSpan.FromSeconds(0.5), Ttl);
        }

        var renewals = server.Heartbeats(start);
        // Due at ~1 s and ~2 s after the checkout; a slow machine may delay one, never bring one forward.
        Assert.True(renewals.Count is >= 1 and <= 3, $"{renewals.Count} heartbeats in 2.6 s: {string.Join(", ", renewals.Take(10).Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}");
        Assert.InRange(renewals[0], 0.9, 1.9);
        for (var i = 1; i < renewals.Count; i++) Assert.True(renewals[i] - renewals[i - 1] >= 0.9, $"heartbeats {renewals[i - 1]:F2} s and {renewals[i]:F2} s");
    }

    private static LicensingClient Client(SkewedServer server)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddLicensingClient(o =>
        {
            o.Servers = [new Uri("http://server-a.test/")];
            o.ClientId = "skew-test";
        }).ConfigurePrimaryHttpMessageHandler(() => server);
        return services.BuildServiceProvider().GetRequiredService<LicensingClient>();
    }

    /// <summary>A license server whose wall clock is <paramref name="offset"/> off the client's.</summary>
    private sealed class SkewedServer(TimeSpan offset) : HttpMessageHandler
    {
        private readonly List<long> _heartbeats = [];

        /// <summary>When each heartbeat arrived, in seconds after <paramref name="start"/> (a <see cref="Stopwatch.GetTimestamp"/>).</summary>
        public List<double> Heartbeats(long start)
        {
            lock (_heartbeats) return [.. _heartbeats.Select(t => (t - start) / (double)Stopwatch.Frequency)];
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Delete) return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NoContent));
            if (request.Method == HttpMethod.Put)
            {
                lock (_heartbeats) _heartbeats.Add(Stopwatch.GetTimestamp());
            }

            var now = DateTimeOffset.UtcNow + offset;
            var json = $$"""
                {"leaseId":"lease-1","code":"CAD-1","clientId":"skew-test","count":1,"serverId":"server-a",
                 "expiresAt":"{{(now + Ttl).ToString("O", CultureInfo.InvariantCulture)}}","renewAfter":"{{(now + RenewAfter).ToString("O", CultureInfo.InvariantCulture)}}",
                 "ttlSeconds":{{Ttl.TotalSeconds.ToString(CultureInfo.InvariantCulture)}},"renewAfterSeconds":{{RenewAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture)}}}
                """;
            return Task.FromResult(new HttpResponseMessage(request.Method == HttpMethod.Post ? HttpStatusCode.Created : HttpStatusCode.OK)
            {
                Content = new StringContent(json, Encoding.UTF8, "application/json"),
            });
        }
    }
}
