// Measures what one ServerGrain-state-sized write costs on PostgreSQL (PostgresGrainStorage, the production wiring) and on the
// embedded SQLite store, and
// checks the production wiring end to end on the way: two silos with UseLicensingPostgres (ADO.NET clustering, our
// storage) find each other through the membership table, a client finds them through the gateway query, and a
// checkout is granted. Not a test: run it by hand, in Release, on an otherwise idle machine.
//
//   dotnet run -c Release --project tests/Orleans.Licensing.Benchmarks -- writes ["<connection string>"] [iterations]
//
// The connection string defaults to LICENSING_TEST_POSTGRES, else the local CI database; the database must hold the schema of sql/.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Licensing;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Licensing.Benchmarks;

internal static class WritesCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var connectionString = args.ElementAtOrDefault(0) ?? Postgres.DefaultConnectionString();
        var iterations = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100;
        var clusterId = $"bench-{Guid.NewGuid():N}"[..20];

        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT version(), current_setting('synchronous_commit'), current_setting('fsync')", connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
            Console.WriteLine($"database: {reader.GetString(0)} (synchronous_commit={reader.GetString(1)}, fsync={reader.GetString(2)})");
        }

        using var siloA = await StartSiloAsync("server-a");
        using var siloB = await StartSiloAsync("server-b");
        await WaitForActiveSilosAsync(siloA, 2);
        await WaitForActiveSilosAsync(siloB, 2);
        Console.WriteLine($"cluster {clusterId}: {string.Join(", ", await MembershipRowsAsync())}");

        var client = Host.CreateApplicationBuilder();
        client.Logging.SetMinimumLevel(LogLevel.Warning);
        client.UseOrleansClient(c => c
            .UseLicensingPostgresClustering(connectionString)
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId)));
        using (var clientHost = client.Build())
        {
            await clientHost.StartAsync();
            var grains = clientHost.Services.GetRequiredService<IClusterClient>();
            var code = $"bench-{Guid.NewGuid():N}"[..20];
            var distribution = await grains.GetServerGrain("server-a", code).AddLicenseCode(await BenchGrants.CodeAsync(grains, code, "bench", 10));
            var checkout = await grains.GetServerGrain("server-b", code).Checkout(new CheckoutRequest("lease-1", "client-1", 1));
            Console.WriteLine($"client via gateway: code {code} added (version {distribution.Version}); checkout on server-b granted={checkout.Granted}");
            await clientHost.StopAsync();
        }

        var storage = siloA.Services.GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        var serializer = siloA.Services.GetRequiredService<Serializer>();
        var json = new JsonGrainStorageSerializer(siloA.Services.GetRequiredService<OrleansJsonSerializer>());
        var binary = new OrleansGrainStorageSerializer(serializer);

        var now = DateTimeOffset.UtcNow;
        var leases = Enumerable.Range(0, 10_000)
            .Select(i => new LeaseRecord(Guid.NewGuid().ToString(), $"client-{i:D6}.example.org", 1, now.AddSeconds(60 + i % 60)))
            .ToList();
        var whole = new LeasePage { Leases = leases.ToDictionary(l => l.LeaseId) };
        var pages = Enumerable.Range(0, 16)
            .Select(p => new LeasePage { Leases = leases.Skip(p * 625).Take(625).ToDictionary(l => l.LeaseId) })
            .ToArray();
        var record = new ServerRecord
        {
            Allocated = 10_000, Threshold = 0.8, BaseShare = 10_000, AppliedVersion = 7, LeasePages = 16, Sequence = 1,
            License = new LicenseCode("bench", "bench", 10_000),
            RecentGiveUps = [.. Enumerable.Range(0, 32).Select(i => new GiveUpResult(Guid.NewGuid(), i, i))],
        };

        Console.WriteLine();
        Console.WriteLine("serialized sizes (bytes)    Orleans binary    JSON (provider default)");
        Console.WriteLine($"  10,000 leases, 1 record   {binary.Serialize(whole).ToArray().Length,14:N0}    {json.Serialize(whole).ToArray().Length,14:N0}");
        Console.WriteLine($"  625 leases (1 of 16)      {binary.Serialize(pages[0]).ToArray().Length,14:N0}    {json.Serialize(pages[0]).ToArray().Length,14:N0}");
        Console.WriteLine($"  server record             {binary.Serialize(record).ToArray().Length,14:N0}    {json.Serialize(record).ToArray().Length,14:N0}");
        Console.WriteLine($"JSON round trip of a server record: {RoundTrip(() =>
        {
            var copy = json.Deserialize<ServerRecord>(json.Serialize(record))!;
            return copy with { RecentGiveUps = record.RecentGiveUps } == record && copy.RecentGiveUps.SequenceEqual(record.RecentGiveUps);
        })}");
        Console.WriteLine($"JSON round trip of a lease page: {RoundTrip(() =>
        {
            var copy = json.Deserialize<LeasePage>(json.Serialize(pages[0]))!;
            return copy.Leases.Count == pages[0].Leases.Count
                && pages[0].Leases.All(l => copy.Leases.TryGetValue(l.Key, out var v) && v == l.Value && v.ExpiresAt.Offset == l.Value.ExpiresAt.Offset);
        })}");

        var grainId = siloA.Services.GetRequiredService<IGrainFactory>().GetServerGrain("server-a", "bench-writes").GetGrainId();
        await MeasureAsync("serialize only: 10,000 leases (binary)", () => { binary.Serialize(whole); return Task.CompletedTask; });
        await MeasureAsync("serialize only: 625 leases (binary)", () => { binary.Serialize(pages[0]); return Task.CompletedTask; });
        var sqlitePath = Path.Combine(Path.GetTempPath(), $"licensing-bench-{Guid.NewGuid():N}.db");
        foreach (var (label, store) in new (string, IGrainStorage)[]
        {
            ("PostgreSQL (PostgresGrainStorage)", storage),
            ("the embedded SQLite store", new Orleans.Licensing.Storage.SqliteGrainStorage(sqlitePath, serializer)),
        })
        {
            Console.WriteLine();
            Console.WriteLine($"writes to {label}, {iterations} timed after 10 warm-up, sequential (ms per write):");
            Console.WriteLine("                                              mean     p50     p95     max");
            var serverState = new GrainState<ServerRecord>(record);
            await MeasureAsync("server record alone", () => store.WriteStateAsync("server", grainId, serverState));
            var wholeState = new GrainState<LeasePage>(whole);
            await MeasureAsync("10,000 leases in one record", () => store.WriteStateAsync("leases-whole", grainId, wholeState));
            var pageStates = pages.Select(p => new GrainState<LeasePage>(p)).ToArray();
            await MeasureAsync("1 page of 625 (one change)", () => store.WriteStateAsync("leases-0", grainId, pageStates[0]));
            await MeasureAsync("16 pages of 625, in parallel (all dirty)", () => Task.WhenAll(pageStates.Select((s, i) => store.WriteStateAsync($"leases-{i}", grainId, s))));
            await MeasureAsync("server record + 1 page (one commit)", async () =>
            {
                await store.WriteStateAsync("server", grainId, serverState);
                await store.WriteStateAsync("leases-0", grainId, pageStates[0]);
            });
        }

        File.Delete(sqlitePath);
        await siloB.StopAsync();
        await siloA.StopAsync();
        Console.WriteLine($"stopped; membership now: {string.Join(", ", await MembershipRowsAsync())}");
        return 0;

        async Task MeasureAsync(string name, Func<Task> write)
        {
            for (var i = 0; i < 10; i++) await write();
            var times = new double[iterations];
            for (var i = 0; i < iterations; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await write();
                times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            Array.Sort(times);
            Console.WriteLine($"  {name,-42} {times.Average(),7:F2} {times[iterations / 2],7:F2} {times[(int)(iterations * 0.95)],7:F2} {times[^1],7:F2}");
        }

        async Task<IHost> StartSiloAsync(string name)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.UseOrleans(silo =>
            {
                silo.UseLicensingPostgres(connectionString);
                silo.Services.AddSingleton(BenchGrants.Verifier);
                silo.AddLicensing();
                silo.Services.AddSingleton<Orleans.Licensing.Security.IClientCallPolicy, BenchmarkClientAdmitted>();
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId));
                silo.Configure<SiloOptions>(o => o.SiloName = name);
                silo.ConfigureEndpoints(IPAddress.Loopback, FreePort(), FreePort());
            });
            var host = builder.Build();
            await host.StartAsync();
            return host;
        }

        static string RoundTrip(Func<bool> check)
        {
            try
            {
                return check() ? "equal" : "DIFFERENT";
            }
            catch (Exception e)
            {
                return $"FAILS: {e.GetType().Name}: {e.Message}";
            }
        }

        static async Task WaitForActiveSilosAsync(IHost silo, int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await foreach (var snapshot in silo.Services.GetRequiredService<IClusterMembershipService>().MembershipUpdates.WithCancellation(timeout.Token))
            {
                if (snapshot.Members.Values.Count(m => m.Status == SiloStatus.Active) == count) return;
            }
        }

        async Task<List<string>> MembershipRowsAsync()
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT SiloName, Status FROM OrleansMembershipTable WHERE DeploymentId = @d ORDER BY SiloName", connection);
            command.Parameters.AddWithValue("d", clusterId);
            var rows = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add($"{reader.GetString(0)}={(SiloStatus)reader.GetInt32(1)}");
            return rows;
        }

        static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
