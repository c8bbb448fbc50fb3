namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>Three license servers with long leases and no re-distribution timer: for the claims, step by step.</summary>
public sealed class PoolFixture : IAsyncLifetime
{
    public PoolCluster Pool { get; } = new(3, o =>
    {
        o.LeaseTtl = TimeSpan.FromMinutes(5);
        o.RedistributeInterval = TimeSpan.Zero;
        o.DefaultThreshold = 0.8;
    });

    public Task InitializeAsync() => Pool.StartAsync();

    public Task DisposeAsync() => Pool.DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class PoolCollection : ICollectionFixture<PoolFixture>
{
    public const string Name = "pool";
}

/// <summary>Three license servers for fault tests: each test kills silos and starts them again before it ends.</summary>
public sealed class FaultFixture : IAsyncLifetime
{
    public PoolCluster Pool { get; } = new(3, o =>
    {
        o.LeaseTtl = TimeSpan.FromMinutes(5);
        o.RedistributeInterval = TimeSpan.Zero;
    });

    public Task InitializeAsync() => Pool.StartAsync();

    public Task DisposeAsync() => Pool.DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultFixture>
{
    public const string Name = "faults";
}

/// <summary>Three license servers with two-second leases: expiry, heartbeats and hold windows happen within a test.</summary>
public sealed class ShortLeaseFixture : IAsyncLifetime
{
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(2);

    public PoolCluster Pool { get; } = new(3, o =>
    {
        o.LeaseTtl = LeaseTtl;
        o.SweepInterval = TimeSpan.FromMilliseconds(250);
        o.RedistributeInterval = TimeSpan.Zero;
    });

    public Task InitializeAsync() => Pool.StartAsync();

    public Task DisposeAsync() => Pool.DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class ShortLeaseCollection : ICollectionFixture<ShortLeaseFixture>
{
    public const string Name = "short-leases";
}
