using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>One cluster of three license servers shared by an xunit collection; each test uses fresh license codes.</summary>
public abstract class ClusterFixture(Action<LicensingOptions> configure, Action<ISiloBuilder>? configureSilo = null) : IAsyncLifetime
{
    public PoolCluster Pool { get; } = new(3, configure, configureSilo);

    public Task InitializeAsync() => Pool.StartAsync();

    public Task DisposeAsync() => Pool.DisposeAsync().AsTask();

    /// <summary>Long leases and no re-distribution timer: the claims, step by step, with exact counts.</summary>
    protected static void LongLeases(LicensingOptions o)
    {
        o.LeaseTtl = TimeSpan.FromMinutes(5);
        o.RedistributeInterval = TimeSpan.Zero;
    }

    /// <summary>Leases that expire within a test, swept often.</summary>
    protected static Action<LicensingOptions> ShortLeases(TimeSpan ttl) => o =>
    {
        o.LeaseTtl = ttl;
        o.SweepInterval = TimeSpan.FromMilliseconds(250);
        o.SyncCheckInterval = TimeSpan.FromSeconds(2);
        o.RedistributeInterval = TimeSpan.Zero;
    };
}

public sealed class PoolFixture() : ClusterFixture(LongLeases);

[CollectionDefinition(Name)]
public sealed class PoolCollection : ICollectionFixture<PoolFixture>
{
    public const string Name = "pool";
}

/// <summary>For fault tests: each test kills silos and starts them again before it ends.</summary>
public sealed class FaultFixture() : ClusterFixture(LongLeases);

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultFixture>
{
    public const string Name = "faults";
}

/// <summary>Six-second leases: expiry, heartbeats and hold windows happen within a test, with room for a kill.</summary>
public sealed class ShortLeaseFixture() : ClusterFixture(ShortLeases(LeaseTtl))
{
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(6);
}

[CollectionDefinition(Name)]
public sealed class ShortLeaseCollection : ICollectionFixture<ShortLeaseFixture>
{
    public const string Name = "short-leases";
}

/// <summary>
/// Two-second leases for the randomized schedules, which kill and restart servers of their own cluster and make the
/// leader's writes fail (<see cref="FailingStorage"/>, off unless a schedule arms it).
/// </summary>
public sealed class RandomizedFixture() : ClusterFixture(ShortLeases(LeaseTtl), FailingStorage.Decorate)
{
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(2);

    /// <summary>The store of a running server's silo (a restarted silo has a new one).</summary>
    public FailingStorage StorageOf(string serverId) => (FailingStorage)Pool.Service<IServiceProvider>(serverId)
        .GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(LicensingOptions.StorageName);
}

[CollectionDefinition(Name)]
public sealed class RandomizedCollection : ICollectionFixture<RandomizedFixture>
{
    public const string Name = "randomized";
}

/// <summary>
/// Re-distribution on, with a period far longer than a test: what a test sees is the early re-distribution the leader
/// schedules when a server rejoins below its base share, never the periodic one.
/// </summary>
public sealed class RejoinFixture() : ClusterFixture(o =>
{
    o.LeaseTtl = TimeSpan.FromMinutes(5);
    o.RedistributeInterval = TimeSpan.FromHours(1);
});

[CollectionDefinition(Name)]
public sealed class RejoinCollection : ICollectionFixture<RejoinFixture>
{
    public const string Name = "rejoin";
}

/// <summary>One license server whose store can be made to fail (<see cref="FailingStorage"/>).</summary>
public sealed class FailingStoreFixture : IAsyncLifetime
{
    public PoolCluster Pool { get; } = new(1, o =>
    {
        o.LeaseTtl = TimeSpan.FromMinutes(5);
        o.RedistributeInterval = TimeSpan.Zero;
    }, FailingStorage.Decorate);

    public FailingStorage Storage => (FailingStorage)Pool.Service<IServiceProvider>(Pool.ServerIds[0])
        .GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(LicensingOptions.StorageName);

    public Task InitializeAsync() => Pool.StartAsync();

    public Task DisposeAsync() => Pool.DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class FailingStoreCollection : ICollectionFixture<FailingStoreFixture>
{
    public const string Name = "failing-store";
}

/// <summary>
/// Three license servers whose stores can be made to fail per grain (<see cref="FailingStorage"/>) and which can stop
/// answering the leader (<see cref="GiveUpPause"/>); the leader gives up on a silent server after two seconds.
/// </summary>
public sealed class FaultInjectionFixture : IAsyncLifetime
{
    public PoolCluster Pool { get; } = new(3, o =>
    {
        o.LeaseTtl = TimeSpan.FromMinutes(5);
        o.RedistributeInterval = TimeSpan.Zero;
        o.GiveUpTimeout = TimeSpan.FromSeconds(2);
    }, silo =>
    {
        FailingStorage.Decorate(silo);
        silo.AddIncomingGrainCallFilter<GiveUpPause>();
    });

    public FailingStorage StorageOf(string serverId) => (FailingStorage)Pool.Service<IServiceProvider>(serverId)
        .GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(LicensingOptions.StorageName);

    public Task InitializeAsync() => Pool.StartAsync();

    public Task DisposeAsync() => Pool.DisposeAsync().AsTask();
}

[CollectionDefinition(Name)]
public sealed class FaultInjectionCollection : ICollectionFixture<FaultInjectionFixture>
{
    public const string Name = "fault-injection";
}
