using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>A stock Orleans client connected to one server process's gateway port, as a frontend (or an intruder) would be.</summary>
public sealed class GatewayClient : IAsyncDisposable
{
    private readonly IHost _host;

    private GatewayClient(IHost host) => _host = host;

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<GatewayClient> ConnectAsync(ServerProcess server, string cluster = "orleans-licensing")
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client
            .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, server.GatewayPort))
            .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10))
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster, cluster)));
        var host = builder.Build();
        await host.StartAsync();
        return new GatewayClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
