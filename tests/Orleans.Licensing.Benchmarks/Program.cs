// The measurement program of Orleans.Licensing. Not a test: run it by hand, in Release, on an otherwise idle machine.
//
//   dotnet run -c Release --project tests/Orleans.Licensing.Benchmarks -- compare [--quick] [options]
//       this pool against what users would pick instead (docs/benchmarks.md)
//   dotnet run -c Release --project tests/Orleans.Licensing.Benchmarks -- scale [--quick] [options]
//       many license codes, many leases at one server, recovery after a killed server (docs/benchmarks.md, "Scale runs")
//   dotnet run -c Release --project tests/Orleans.Licensing.Benchmarks -- writes ["<connection string>"] [iterations]
//       what one grain-state write costs on PostgreSQL and SQLite (README, "What a state write costs")
//   dotnet run -c Release --project tests/Orleans.Licensing.Benchmarks -- micro [BenchmarkDotNet arguments]
//       BenchmarkDotNet micro-benchmarks (serializing what one ServerGrain commit writes)
//   dotnet run -c Release --project tests/Orleans.Licensing.Benchmarks -- auth [iterations]
//       what authenticating one request with an API key costs (key ring lookup, cache, whole handler)
using Orleans.Licensing.Benchmarks;
using Orleans.Licensing.Benchmarks.Compare;
using Orleans.Licensing.Benchmarks.Scale;

switch (args.FirstOrDefault())
{
    case "compare":
        return await CompareCommand.RunAsync(args[1..]);
    case "scale":
        return await ScaleCommand.RunAsync(args[1..]);
    case "micro":
        return MicroCommand.Run(args[1..]);
    case "writes":
        return await WritesCommand.RunAsync(args[1..]);
    case "auth":
        return await AuthCommand.RunAsync(args[1..]);
    case { } first when first.Contains('=', StringComparison.Ordinal):
        // The form before commands existed: a connection string first.
        return await WritesCommand.RunAsync(args);
    default:
        Console.Error.WriteLine("usage: compare [--quick] [--seats S] [--clients C] [--codes K] [--seconds N] [--warmup N] [--hold-ms N] [--pg-pool N] [--only NAME,...] [--connection CS] [--out FILE] [--skewed-seats S] [--skewed-busy F]");
        Console.Error.WriteLine("       scale [--quick] [--codes N] [--code-silos N] [--code-in-flight N] [--seats-per-server N] [--leases N] [--lease-in-flight N] [--pairs N] [--failover-leases N] [--failover-in-flight N] [--fast-membership]");
        Console.Error.WriteLine("             [--add-seconds N] [--checkout-seconds N] [--fill-seconds N] [--pairs-seconds N] [--recovery-seconds N] [--only 1,2,3] [--connection CS] [--out FILE]");
        Console.Error.WriteLine("       (compare HTTP rows: [--http-rows default,log-off,rate-limit-off,proxy] [--http-env K=V,K=V])");
        Console.Error.WriteLine("       micro [BenchmarkDotNet arguments]");
        Console.Error.WriteLine("       auth [iterations]");
        Console.Error.WriteLine("       writes [\"<PostgreSQL connection string>\"] [iterations]");
        return 2;
}
