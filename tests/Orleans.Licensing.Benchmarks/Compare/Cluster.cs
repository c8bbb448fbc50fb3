using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace Orleans.Licensing.Benchmarks.Compare;

internal static class Ports
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Counts calls to the leader (<see cref="IPoolGrain"/>) on the silos of this process.</summary>
internal sealed class LeaderCallCounter : IIncomingGrainCallFilter
{
    private static long s_borrows;
    private static long s_calls;

    /// <summary>Calls to IPoolGrain.Borrow: a server asking the leader for allocations.</summary>
    public static long Borrows => Interlocked.Read(ref s_borrows);

    /// <summary>Every call to a PoolGrain (borrow, usage reports, rejoin, sync checks, admin).</summary>
    public static long Calls => Interlocked.Read(ref s_calls);

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IPoolGrain))
        {
            Interlocked.Increment(ref s_calls);
            if (context.InterfaceMethod.Name == nameof(IPoolGrain.Borrow)) Interlocked.Increment(ref s_borrows);
        }

        return context.Invoke();
    }
}

/// <summary>
/// Three license servers as real silos in this process (loopback ports), each with UseLicensingPostgres (ADO.NET
/// clustering and grain storage) and AddLicensing, as the server process configures its silo.
/// </summary>
internal sealed class Cluster : IAsyncDisposable
{
    private readonly string _connectionString;

    private Cluster(string connectionString, string clusterId, IReadOnlyList<IHost> silos)
    {
        (_connectionString, ClusterId, Silos) = (connectionString, clusterId, silos);
    }

    public string ClusterId { get; }

    public IReadOnlyList<IHost> Silos { get; }

    public static string ServerId(int index) => $"server-{index}";

    public IGrainFactory Grains(int index) => Silos[index].Services.GetRequiredService<IGrainFactory>();

    /// <summary>
    /// One checkout by <paramref name="client"/> at the ServerGrain of <paramref name="server"/>, called from that
    /// server's silo as its REST layer does; returns the check-in, or null when denied.
    /// </summary>
    public async Task<Func<Task>?> CheckoutAtAsync(int server, int client, string code)
    {
        var grain = Grains(server).GetServerGrain(ServerId(server), code);
        var leaseId = Guid.NewGuid().ToString("N");
        var result = await grain.Checkout(new CheckoutRequest(leaseId, $"client-{client}", 1));
        if (!result.Granted) return null;
        return async () =>
        {
            if (!await grain.Checkin(leaseId, $"client-{client}")) throw new InvalidOperationException($"lease {leaseId} was not checked in");
        };
    }

    /// <param name="configure">More silo configuration (e.g. LicensingOptions of the scale command); null for compare's defaults.</param>
    public static async Task<Cluster> StartAsync(string connectionString, int servers, Action<ISiloBuilder>? configure = null)
    {
        var clusterId = $"bench-{Guid.NewGuid():N}"[..20];
        var silos = new List<IHost>();
        for (var i = 0; i < servers; i++)
        {
            var builder = Host.CreateApplicationBuilder();
            // Silo logs are off (stopping the cluster logs rejected one-way syncs); LICENSING_BENCH_LOGS=1 shows warnings.
            // Failed operations are counted and reported by the runner either way.
            builder.Logging.SetMinimumLevel(Environment.GetEnvironmentVariable("LICENSING_BENCH_LOGS") == "1" ? LogLevel.Warning : LogLevel.None);
            var name = ServerId(i);
            builder.UseOrleans(silo =>
            {
                silo.UseLicensingPostgres(connectionString);
                silo.Services.AddSingleton(BenchGrants.Verifier);
                silo.AddLicensing();
                silo.AddIncomingGrainCallFilter<LeaderCallCounter>();
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId));
                silo.Configure<SiloOptions>(o => o.SiloName = name);
                silo.ConfigureEndpoints(IPAddress.Loopback, Ports.Free(), Ports.Free());
                configure?.Invoke(silo);
            });
            var host = builder.Build();
            await host.StartAsync();
            silos.Add(host);
        }

        var cluster = new Cluster(connectionString, clusterId, silos);
        foreach (var silo in silos) await WaitForActiveSilosAsync(silo, servers);
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos.Reverse())
        {
            await silo.StopAsync();
            silo.Dispose();
        }

        // The cluster's rows: membership and grain storage of this run's ServiceId.
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await DeleteRowsAsync(connection);
        }

        // The silos' ADO.NET providers leave idle connections in Npgsql's pools of this process (up to one per
        // concurrent write, kept for minutes): close them, or the next contender's server processes find no free
        // connection slot.
        NpgsqlConnection.ClearAllPools();
    }

    private async Task DeleteRowsAsync(NpgsqlConnection connection)
    {
        foreach (var sql in new[]
                 {
                     "DELETE FROM licensing_grain_state WHERE service_id = $1",
                     "DELETE FROM OrleansMembershipTable WHERE DeploymentId = $1",
                     "DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = $1",
                 })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = ClusterId });
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task WaitForActiveSilosAsync(IHost silo, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var snapshot in silo.Services.GetRequiredService<IClusterMembershipService>().MembershipUpdates.WithCancellation(timeout.Token))
        {
            if (snapshot.Members.Values.Count(m => m.Status == SiloStatus.Active) == count) return;
        }
    }
}

/// <summary>
/// This project: client i talks to license server i mod 3 (as a client of the REST API talks to its server, whose
/// process hosts that server's ServerGrain); checkout and check-in go to that ServerGrain.
/// </summary>
internal sealed class OursGrains(Cluster cluster) : Contender
{
    public override string Name => "ours";

    public override string Description =>
        $"{cluster.Silos.Count} license servers = {cluster.Silos.Count} silos in this process (loopback, UseLicensingPostgres + AddLicensing, default options); client i calls ServerGrain of server i mod {cluster.Silos.Count} from that server's silo";

    public override long? LeaderCalls => LeaderCallCounter.Borrows;

    public override IReadOnlyList<int> StoreProcesses => ProcessMemory.PostgresProcesses();

    public override async Task SetUpAsync(IReadOnlyList<string> codes, int seats)
    {
        foreach (var code in codes)
        {
            await cluster.Grains(0).GetServerGrain(Cluster.ServerId(0), code).AddLicenseCode(await BenchGrants.CodeAsync(cluster.Grains(0), code, "bench", seats));
        }
    }

    public override Task<Func<Task>?> CheckoutAsync(int client, string code) =>
        cluster.CheckoutAtAsync(client % cluster.Silos.Count, client, code);
}

/// <summary>The single-grain coordinator: every checkout of a code goes to one grain, from the client's server's silo.</summary>
internal sealed class SingleGrain(Cluster cluster) : Contender
{
    public override string Name => "single-grain";

    public override string Description =>
        "one CoordinatorGrain per code (non-reentrant, every lease in its state, one WriteStateAsync per checkout and per check-in) on the same 3 silos and the same PostgreSQL grain storage";

    public override IReadOnlyList<int> StoreProcesses => ProcessMemory.PostgresProcesses();

    public override async Task SetUpAsync(IReadOnlyList<string> codes, int seats)
    {
        foreach (var code in codes) await cluster.Grains(0).GetGrain<ICoordinatorGrain>(code).Configure(seats);
    }

    public override async Task<Func<Task>?> CheckoutAsync(int client, string code)
    {
        var grain = cluster.Grains(client % cluster.Silos.Count).GetGrain<ICoordinatorGrain>(code);
        var leaseId = Guid.NewGuid().ToString("N");
        if (!await grain.Checkout(leaseId, $"client-{client}")) return null;
        return async () =>
        {
            if (!await grain.Checkin(leaseId)) throw new InvalidOperationException($"lease {leaseId} was not checked in");
        };
    }
}
