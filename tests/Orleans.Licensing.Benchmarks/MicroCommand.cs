using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Orleans.Licensing.Benchmarks;

/// <summary>
/// `micro [BenchmarkDotNet arguments]`: BenchmarkDotNet micro-benchmarks of the hot path, in process (no separate
/// build): a ServerGrain checkout → check-in pair, one journal write, and serializing a record and a lease page.
/// </summary>
internal static class MicroCommand
{
    public static int Run(string[] args)
    {
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summaries = BenchmarkSwitcher.FromTypes([typeof(ServerGrainCheckoutBenchmarks), typeof(JournalAppendBenchmarks), typeof(CommitSerializationBenchmarks)]).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}

[MemoryDiagnoser]
public class CommitSerializationBenchmarks
{
    private Serializer _serializer = null!;
    private LeasePage _page = null!;
    private ServerRecord _record = null!;

    [Params(20, 625)]
    public int LeasesInPage { get; set; }

    [GlobalSetup]
    public void SetUp()
    {
        _serializer = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(LeasePage).Assembly).AddAssembly(typeof(LicenseCode).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>();
        var now = DateTimeOffset.UtcNow;
        _page = new LeasePage
        {
            Leases = Enumerable.Range(0, LeasesInPage)
                .Select(i => new LeaseRecord(Guid.NewGuid().ToString("N"), $"client-{i}", 1, now.AddSeconds(60)))
                .ToDictionary(l => l.LeaseId),
        };
        _record = new ServerRecord
        {
            Allocated = 200, Threshold = 0.8, BaseShare = 66, AppliedVersion = 3, LeasePages = 16, Sequence = 1,
            License = new LicenseCode("bench", "bench", 200),
        };
    }

    [Benchmark]
    public int SerializeLeasePage() => _serializer.SerializeToArray(_page).Length;

    [Benchmark]
    public int SerializeServerRecord() => _serializer.SerializeToArray(_record).Length;
}
