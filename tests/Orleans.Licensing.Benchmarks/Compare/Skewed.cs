namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// `ours` on the skewed workload: one license code, most clients on one license server that is not the leader's, the
/// rest spread over the other two. With the default even distribution every server starts with S / 3 allocations, so
/// the busy server passes its borrowing threshold early and has to borrow, from the free pool and then from the
/// leader server's own share (claims 2, 3, 5). Checkout and check-in go to the ServerGrain of the client's server,
/// called from that server's silo, as with <see cref="OursGrains"/>.
/// </summary>
internal sealed class OursSkewed(Cluster cluster, int clients, double busyShare) : Contender
{
    private int[] _serverOf = [];

    public override string Name => "ours";

    public override string Description =>
        $"ours on one code, {BusyClients} of {clients} clients on {BusyServer} (not the leader's server {LeaderServer}), the rest round-robin on the other servers";

    public int BusyClients => (int)Math.Round(clients * busyShare);

    public string BusyServer { get; private set; } = "?";

    public string LeaderServer { get; private set; } = "?";

    /// <summary>Clients per license server.</summary>
    public IReadOnlyDictionary<string, int> ClientsPerServer =>
        _serverOf.GroupBy(s => Cluster.ServerId(s)).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

    public override long? LeaderCalls => LeaderCallCounter.Borrows;

    public override IReadOnlyList<int> StoreProcesses => ProcessMemory.PostgresProcesses();

    public override async Task SetUpAsync(IReadOnlyList<string> codes, int seats)
    {
        if (codes.Count != 1) throw new ArgumentException("the skewed workload has one code", nameof(codes));
        var distribution = await cluster.Grains(0).GetServerGrain(Cluster.ServerId(0), codes[0]).AddLicenseCode(await BenchGrants.CodeAsync(cluster.Grains(0), codes[0], "bench", seats));
        LeaderServer = distribution.LeaderServerId;
        var servers = Enumerable.Range(0, cluster.Silos.Count).ToList();
        var busy = servers.First(i => Cluster.ServerId(i) != LeaderServer);
        BusyServer = Cluster.ServerId(busy);
        var others = servers.Where(i => i != busy).ToList();
        _serverOf = [.. Enumerable.Range(0, clients).Select(c => c < BusyClients ? busy : others[(c - BusyClients) % others.Count])];
    }

    public override Task<Func<Task>?> CheckoutAsync(int client, string code) => cluster.CheckoutAtAsync(_serverOf[client], client, code);

    /// <summary>The leader's distribution (after the run): allocations per server and the free pool.</summary>
    public async Task<Distribution?> DistributionAsync(string code) => await cluster.Grains(0).GetGrain<IPoolGrain>(code).GetDistribution();
}

/// <summary>Leader calls of the skewed workload, warm-up and measured window apart.</summary>
internal sealed record SkewedResult(
    string Code,
    int Seats,
    int Clients,
    string BusyServer,
    string LeaderServer,
    IReadOnlyDictionary<string, int> ClientsPerServer,
    double Threshold,
    double WarmupSeconds,
    long WarmupLeaderCalls,
    long WarmupCheckouts,
    double? WarmupLeaderCallsPercent,
    double MeasuredSeconds,
    long MeasuredLeaderCalls,
    long MeasuredCheckouts,
    double? MeasuredLeaderCallsPercent,
    double PairsPerSecond,
    long Denied,
    long Errors,
    int FreePoolAfter,
    IReadOnlyDictionary<string, int> AllocatedAfter,
    long DistributionVersionAfter);
