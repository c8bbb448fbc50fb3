using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>
/// A test against a three-server pool on PostgreSQL: every server is running when it starts, an admin client talks to
/// all of them, and every client service provider it creates is disposed at the end.
/// </summary>
public abstract class PostgresPoolTest(PostgresPoolFixture pool) : IAsyncLifetime
{
    private readonly List<ServiceProvider> _services = [];

    protected LicensingClient Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (pool.Servers.Count == 0) return;
        await pool.EnsureAllRunningAsync();
        Admin = Track(PostgresPoolFixture.ClientServices([.. pool.Servers.Select(s => s.Url)], "admin", TestRole.Admin)).GetRequiredService<LicensingClient>();
    }

    public async Task DisposeAsync()
    {
        foreach (var services in _services) await services.DisposeAsync();
    }

    protected ServiceProvider Track(ServiceProvider services)
    {
        lock (_services) _services.Add(services);
        return services;
    }
}
