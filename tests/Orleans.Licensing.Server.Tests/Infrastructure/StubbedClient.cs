using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>An SDK client whose "servers" are a stub handler: for what the SDK does with answers no real server gives on cue.</summary>
public static class StubbedClient
{
    public static LicensingClient Create(HttpMessageHandler stub, params Uri[] servers) => Create(stub, _ => { }, servers);

    public static LicensingClient Create(HttpMessageHandler stub, Action<LicensingClientOptions> configure, params Uri[] servers)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddLicensingClient(o =>
        {
            o.Servers = servers;
            o.ClientId = "retry-test";
            o.RetriesPerServer = 0;
            configure(o);
        }).ConfigurePrimaryHttpMessageHandler(() => stub);
        return services.BuildServiceProvider().GetRequiredService<LicensingClient>();
    }
}
