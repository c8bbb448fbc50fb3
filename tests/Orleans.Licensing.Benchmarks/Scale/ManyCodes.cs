using Orleans.Licensing.Benchmarks.Compare;

namespace Orleans.Licensing.Benchmarks.Scale;

/// <summary>
/// Part 1: many license codes. An in-process cluster (3 silos by default, PostgreSQL storage) adds the codes through the
/// pool (IServerGrain.AddLicenseCode of server i mod n, forwarded to the code's leader), then makes one checkout +
/// check-in on each code at server i mod n.
/// </summary>
internal static class ManyCodes
{
    public const string Part = "1 many codes";

    public static async Task<List<Measure>> RunAsync(ScaleSettings s)
    {
        var measures = new List<Measure>();
        var n = s.CodeSilos;
        Console.WriteLine($"-- part {Part}: {s.Codes:N0} codes on {n} silo(s), {s.CodeInFlight} in flight, each with {n * s.SeatsPerServer} seats (even: {s.SeatsPerServer} per server); budgets: adding {s.AddBudget.TotalSeconds} s, checkouts {s.CheckoutBudget.TotalSeconds} s");
        CallTimer.Reset();
        await using var cluster = await Cluster.StartAsync(s.ConnectionString, n, silo => silo.AddIncomingGrainCallFilter<CallTimer>());
        var prefix = $"s{Guid.NewGuid():N}"[..7];
        string Code(int i) => $"{prefix}-{i:D7}";
        var added = new bool[s.Codes];

        MemorySampler memory;
        PhaseResult add, pairs;
        string addCalls, pairCalls;
        await using (memory = new MemorySampler(ProcessMemory.PostgresProcesses))
        {
            add = await Driver.RunAsync(s.Codes, s.CodeInFlight, s.AddBudget, async i =>
            {
                var server = i % n;
                await cluster.Grains(server).GetServerGrain(Cluster.ServerId(server), Code(i)).AddLicenseCode(await BenchGrants.CodeAsync(cluster.Grains(server), Code(i), "bench", n * s.SeatsPerServer));
                added[i] = true;
                return true;
            }, "codes added");
            Console.WriteLine($"   adding: {add.Summary()}");
            Console.WriteLine($"   adding, per step: {add.StepRates()}");
            addCalls = CallTimer.Report();
            Console.WriteLine($"   adding, grain calls (count × mean time inside the call): {addCalls}");
            CallTimer.Reset();

            var codes = Enumerable.Range(0, s.Codes).Where(i => added[i]).ToArray();
            pairs = await Driver.RunAsync(codes.Length, s.CodeInFlight * 2, s.CheckoutBudget, async k =>
            {
                var i = codes[k];
                var server = i % n;
                var grain = cluster.Grains(server).GetServerGrain(Cluster.ServerId(server), Code(i));
                var leaseId = $"{i}";
                var result = await grain.Checkout(new CheckoutRequest(leaseId, "bench-client", 1));
                if (!result.Granted) return false;
                if (!await grain.Checkin(leaseId, "bench-client")) throw new InvalidOperationException($"lease {leaseId} of {Code(i)} was not checked in");
                return true;
            }, "checkout + check-in pairs");
            Console.WriteLine($"   checkout + check-in: {pairs.Summary()}");
            pairCalls = CallTimer.Report();
            Console.WriteLine($"   checkout + check-in, grain calls: {pairCalls}");
        }

        var activations = await cluster.Grains(0).GetGrain<IManagementGrain>(0).GetTotalActivationCount();
        var storage = await StorageUse.QueryAsync(s.ConnectionString, cluster.ClusterId);

        measures.Add(new Measure(Part, "license codes added", add.Completed, "codes",
            $"target {s.Codes:N0}; {add.Errors} errors{(add.FirstError is null ? "" : $" (first: {add.FirstError})")}{(add.OutOfTime ? $"; stopped at the {s.AddBudget.TotalSeconds} s budget" : "")}"));
        measures.Add(new Measure(Part, "adding license codes", Math.Round(add.Rate, 1), "codes/s", $"{n} silos, {s.CodeInFlight} in flight; per 10% step: {add.StepRates()}"));
        measures.Add(new Measure(Part, "AddLicenseCode latency p50", add.Percentile(0.5), "ms", $"grain calls while adding (count × mean time inside the call, incl. the calls it makes): {addCalls}"));
        measures.Add(new Measure(Part, "AddLicenseCode latency p99", add.Percentile(0.99), "ms"));
        if (pairs.Target == 0)
        {
            measures.Add(Measure.Missing(Part, "checkout + check-in on each code", "pairs/s", "no code was added"));
        }
        else
        {
            measures.Add(new Measure(Part, "checkout + check-in on each code", Math.Round(pairs.Rate, 1), "pairs/s",
                $"{pairs.Completed:N0} of {pairs.Target:N0} codes, {s.CodeInFlight * 2} in flight, denied {pairs.Denied}, errors {pairs.Errors}{(pairs.FirstError is null ? "" : $" (first: {pairs.FirstError})")}{(pairs.OutOfTime ? $"; stopped at the {s.CheckoutBudget.TotalSeconds} s budget" : "")}; per 10% step: {pairs.StepRates()}"));
            measures.Add(new Measure(Part, "checkout + check-in pair latency p50", pairs.Percentile(0.5), "ms", $"grain calls (count × mean time inside the call): {pairCalls}"));
            measures.Add(new Measure(Part, "checkout + check-in pair latency p99", pairs.Percentile(0.99), "ms"));
        }

        measures.Add(new Measure(Part, "grain activations at the end", activations, "activations", "all silos (PoolGrain + ServerGrains + catalog + system grains)"));
        measures.Add(new Measure(Part, "peak RSS of this process", Math.Round(memory.PeakSelfRss / 1048576.0), "MB", $"{n} silos + callers in one process"));
        measures.Add(new Measure(Part, "peak PostgreSQL PSS", Math.Round(memory.PeakStorePss / 1048576.0), "MB", "all postgres processes"));
        measures.Add(new Measure(Part, "storage rows", storage.Rows, "rows", storage.Detail()));
        measures.Add(new Measure(Part, "storage payload bytes", Math.Round(storage.PayloadBytes / 1048576.0, 1), "MB", "sum(length(payload)) of this run's ServiceId"));
        var catalog = storage.ByState.FirstOrDefault(kv => kv.Key.Contains("catalog", StringComparison.OrdinalIgnoreCase));
        if (catalog.Key is not null && catalog.Value.Rows > 0)
        {
            measures.Add(new Measure(Part, "catalog record (all codes in one row)", Math.Round(catalog.Value.Bytes / 1024.0, 1), "KB", "rewritten whole by every AddLicenseCode"));
        }

        return measures;
    }
}
