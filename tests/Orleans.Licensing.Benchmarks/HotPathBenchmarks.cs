using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Licensing.Benchmarks.Compare;
using Orleans.Licensing.Storage;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Licensing.Benchmarks;

/// <summary>
/// The hot path of one license server, in process: a checkout → check-in pair at its ServerGrain, called from its own
/// silo as the REST layer does, one at a time (so no group commit shares a write). With in-memory storage it is the CPU
/// cost of the grain path; with the embedded SQLite store (synchronous=FULL) it includes one durable journal write
/// per call.
/// </summary>
[MemoryDiagnoser]
public class ServerGrainCheckoutBenchmarks
{
    private IHost _silo = null!;
    private IServerGrain _server = null!;
    private string _directory = null!;
    private long _next;

    [Params("memory", "sqlite")]
    public string Storage { get; set; } = "memory";

    [GlobalSetup]
    public async Task SetUpAsync()
    {
        _directory = Directory.CreateTempSubdirectory("licensing-micro-").FullName;
        var (siloPort, gatewayPort) = (Ports.Free(), Ports.Free());
        _silo = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort);
                silo.Configure<SiloOptions>(o => o.SiloName = "micro");
                silo.Services.AddSingleton(BenchGrants.Verifier);
                silo.AddLicensing(o => o.RedistributeInterval = TimeSpan.Zero);
                if (Storage == "memory") silo.AddMemoryGrainStorage(LicensingOptions.StorageName);
                else silo.Services.AddSqliteGrainStorage(LicensingOptions.StorageName, Path.Combine(_directory, "pool.db"));
            })
            .Build();
        await _silo.StartAsync();
        var grains = _silo.Services.GetRequiredService<IGrainFactory>();
        var code = $"micro-{Guid.NewGuid():N}";
        _server = grains.GetServerGrain("micro", code);
        await _server.AddLicenseCode(await BenchGrants.CodeAsync(grains, code, "Micro", 1_000, new DistributionCriteria(Even: true)));
    }

    [GlobalCleanup]
    public async Task CleanUpAsync()
    {
        await _silo.StopAsync();
        _silo.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public async Task<bool> CheckoutThenCheckin()
    {
        var id = $"lease-{Interlocked.Increment(ref _next)}";
        var result = await _server.Checkout(new CheckoutRequest(id, "client", 1));
        if (!result.Granted) throw new InvalidOperationException(result.DeniedReason);
        return await _server.Checkin(id, "client");
    }
}

/// <summary>One journal entry of one lease (what a commit of one checkout writes) on the embedded SQLite store.</summary>
[MemoryDiagnoser]
public class JournalAppendBenchmarks
{
    private IGrainStorage _storage = null!;
    private ServerJournal _journal = null!;
    private LeaseBook _leases = null!;
    private ServerRecord _record = null!;
    private string _directory = null!;
    private long _next;

    [GlobalSetup]
    public async Task SetUpAsync()
    {
        _directory = Directory.CreateTempSubdirectory("licensing-micro-journal-").FullName;
        var services = new ServiceCollection()
            .AddSerializer(b => b.AddAssembly(typeof(LeasePage).Assembly).AddAssembly(typeof(LicenseCode).Assembly))
            .AddSqliteGrainStorage(LicensingOptions.StorageName, Path.Combine(_directory, "journal.db"))
            .BuildServiceProvider();
        _storage = services.GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        var grainId = GrainId.Create("server", $"micro/{Guid.NewGuid():N}");
        (_record, _leases, _journal) = await ServerJournal.LoadAsync(_storage, grainId, new LicensingOptions());
    }

    [GlobalCleanup]
    public void CleanUp() => Directory.Delete(_directory, recursive: true);

    [Benchmark]
    public async Task<long> AppendOneLease()
    {
        var id = $"lease-{Interlocked.Increment(ref _next)}";
        _leases.Put(new LeaseRecord(id, "client", 1, DateTimeOffset.UtcNow.AddMinutes(1)));
        _leases.Remove(id);
        _leases.Put(new LeaseRecord(id + "b", "client", 1, DateTimeOffset.UtcNow.AddMinutes(1)));
        await _journal.AppendAsync(_record, _leases);
        if (_journal.ShouldCompact) await _journal.CompactAsync(_leases);
        _leases.Remove(id + "b");
        return _journal.Sequence;
    }
}
