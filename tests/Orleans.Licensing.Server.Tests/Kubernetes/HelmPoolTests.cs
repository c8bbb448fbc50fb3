using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;
using Xunit.Abstractions;
using static Orleans.Licensing.Server.Tests.Infrastructure.PoolChecks;

namespace Orleans.Licensing.Server.Tests.Kubernetes;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HelmPoolCollection
{
    public const string Name = "The Helm chart's StatefulSet as server processes on PostgreSQL";
}

/// <summary>
/// License servers started with exactly the environment that the chart's rendered StatefulSet gives its pods
/// (<see cref="StatefulSetPods"/>), on PostgreSQL: a pod SIGKILLed and started again under its name, and a scale-out
/// from 3 to 4 servers and back. Failure detection and lease times come in as chart values (orleans.membership,
/// extraEnv), as an operator would set them.
/// </summary>
[Collection(HelmPoolCollection.Name), Trait("Category", "Process"), Trait("Storage", "PostgreSQL"), Trait("Deploy", "Kubernetes")]
public sealed class HelmPoolTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Release = "licensing";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _run = Guid.NewGuid().ToString("N")[..12];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "licensing-tests", "helm-" + Guid.NewGuid().ToString("N"));
    private readonly List<ServerProcess> _pods = [];
    private readonly List<ServiceProvider> _services = [];
    private readonly List<LicenseLease> _leases = [];
    private IReadOnlyList<JsonObject>? _manifests;

    private string ClusterId => $"helm-cluster-{_run}";

    private string ServiceId => $"helm-service-{_run}";

    private static string ConnectionString => PostgresPoolFixture.ConnectionString
        ?? throw new InvalidOperationException($"CI=true but {PostgresPoolFixture.Variable} is not set.");

    public Task InitializeAsync()
    {
        if (PostgresPoolFixture.IsCi && Helm.Binary is null) throw new InvalidOperationException($"CI=true but Helm is not found ({Helm.Variable}).");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var lease in _leases) await lease.DisposeAsync();
        foreach (var services in _services) await services.DisposeAsync();
        await Task.WhenAll(_pods.Select(p => p.DisposeAsync().AsTask()));
        PoolFixture.TryDelete(_root);
        if (PostgresPoolFixture.ConnectionString is { } connectionString) await PostgresRows.DeleteAsync(connectionString, ClusterId, ServiceId);
    }

    [KubernetesProcessFact, Trait("Claim", "13"), Trait("Claim", "14")]
    public async Task A_SIGKILLed_pod_started_again_under_its_name_rejoins_and_the_pool_table_adds_up()
    {
        var set = await RenderAsync(replicas: 3);
        var pods = await StartPodsAsync(set, 0, 1, 2);
        var admin = Admin(pods);
        var code = PoolFixture.NewCode("K8S");
        const int seats = 9;
        await admin.AddLicenseAsync(TestSecurity.License(code, seats, "CAD"));
        var ledger = new SeatLedger();
        await using var monitor = new InvariantMonitor(admin, code);
        foreach (var pod in pods) await AcquireAsync(pods, pod, code, 2, ledger);
        Assert.Equal(6, InUse(await admin.GetLicenseAsync(code)));

        var victim = pods[1];
        Assert.Equal(set.PodName(1), victim.ServerId);
        var clock = Stopwatch.StartNew();
        await victim.KillAsync();
        await victim.StartAsync();   // the StatefulSet controller's replacement: same name, same environment
        output.WriteLine($"SIGKILL of {victim.ServerId} until it is ready again: {clock.Elapsed.TotalSeconds:0.0} s");

        var license = await LicenseWhenAsync(admin, code,
            l => TotalHolds(l) && InUse(l) == ledger.Outstanding && l.Servers.Any(s => s.ServerId == victim.ServerId && s.Status == "Up"),
            Timeout, "the pool table to add up with the restarted pod active");
        output.WriteLine(Describe(license));
        Assert.Equal(seats, license.Servers.Sum(s => s.Allocated) + license.FreePool);
        Assert.Equal(6, InUse(license));
        Assert.All(_leases, l => Assert.False(l.IsLost, $"lease {l.LeaseId} lost"));

        // The restarted pod serves under its name again.
        var again = await AcquireAsync([victim], victim, code, 1, ledger);
        Assert.Equal(victim.ServerId, again.Single().ServerId);
        var servers = await admin.GetServersAsync();
        Assert.Equal(set.PodName(1), Assert.Single(servers, s => s.ServerId == victim.ServerId).ServerId);
        Assert.All(servers, s => Assert.Equal("Active", s.Status));
        await monitor.AssertNoViolationAsync();

        // The frontend Deployment of the same render: an Orleans client that finds the gateways in the membership table.
        var frontendPods = new StatefulSetPods(_manifests!, _root, kind: "Deployment", container: "frontend");
        var env = frontendPods.Environment("frontend-0", "127.0.0.1");
        Assert.Equal(ConnectionString, env["ConnectionStrings__Licensing"]);
        Assert.Equal(ClusterId, env["Frontend__ClusterId"]);
        Assert.DoesNotContain(env.Keys, k => k.Contains("Gateways", StringComparison.Ordinal));
        var frontend = new ServerProcess("frontend-0", Path.Combine(_root, "frontend-0", "tmp"), settings: env, app: "Orleans.Licensing.Frontend", readyPath: "healthz", trustTestKeys: false);
        _pods.Add(frontend);
        await frontend.StartAsync();
        using var http = frontend.CreateHttpClient();
        var distribution = JsonNode.Parse(await http.GetStringAsync($"pool/{code}"))!;
        Assert.Equal(seats.ToString(), distribution["total"]!.ToJsonString());
    }

    [KubernetesProcessFact, Trait("Claim", "13")]
    public async Task Scaling_out_from_3_to_4_and_back_hands_the_leaving_pods_allocations_back_and_loses_no_lease()
    {
        var three = await RenderAsync(replicas: 3);
        var four = await RenderAsync(replicas: 4);
        // Scaling changes nothing in the pods' template: the existing pods are not rolled.
        Assert.Equal(three.RenderedEnv.ToJsonString(), four.RenderedEnv.ToJsonString());
        Assert.Equal(three.PodName(0), four.PodName(0));

        var pods = await StartPodsAsync(three, 0, 1, 2);
        var admin = Admin(pods);
        var code = PoolFixture.NewCode("K8S");
        const int seats = 10;
        await admin.AddLicenseAsync(TestSecurity.License(code, seats, "CAD"));
        var ledger = new SeatLedger();
        await using var monitor = new InvariantMonitor(admin, code);
        foreach (var pod in pods) await AcquireAsync(pods, pod, code, 2, ledger);

        // Scale out: pod 3 of the 4-replica StatefulSet joins through the membership table.
        var added = (await StartPodsAsync(four, 3)).Single();
        pods = [.. pods, added];
        admin = Admin(pods);
        await Until.TrueAsync(async () => (await admin.GetServersAsync()).Count(s => s.Status == "Active") == 4, Timeout, "4 active servers");
        var joined = await LicenseWhenAsync(admin, code, l => l.Servers.Any(s => s.ServerId == added.ServerId && s.Status == "Up"), Timeout,
            "the leader to take the new pod in");
        output.WriteLine("joined: " + Describe(joined));
        List<LicenseLease> atAdded;
        try
        {
            atAdded = await AcquireAsync(pods, added, code, 2, ledger);
        }
        catch (LicensingProblemException e)
        {
            output.WriteLine($"denied: {e.Message}; ports: {string.Join(", ", pods.Select(p => $"{p.ServerId} {p.Url}"))}");
            output.WriteLine(Describe(await admin.GetLicenseAsync(code)));
            throw;
        }

        Assert.All(atAdded, l => Assert.Equal(added.ServerId, l.ServerId));
        var before = await LicenseWhenAsync(admin, code, l => TotalHolds(l) && InUse(l) == 8, Timeout, "8 in use on 4 servers");
        output.WriteLine("4 servers: " + Describe(before));
        Assert.Equal(2, Row(before, added.ServerId).InUse);

        // One of its leases checks in: the leaving pod then holds an allocation that nobody uses.
        await atAdded[1].DisposeAsync();
        ledger.Released(atAdded[1].LeaseId);
        _leases.Remove(atAdded[1]);
        atAdded.RemoveAt(1);
        var idle = await LicenseWhenAsync(admin, code, l => Row(l, added.ServerId).InUse == 1, Timeout, "one lease in use at the new pod");
        output.WriteLine("before the scale-in: " + Describe(idle));

        // Scale in: the StatefulSet ends the highest ordinal with SIGTERM; it hands its unused allocations back first.
        await added.StopAsync();
        Assert.Equal(0, added.ExitCode);
        var handback = System.Text.RegularExpressions.Regex.Match(added.Log, $@"{added.ServerId} is stopping: handed (\d+) unused allocations");
        Assert.True(handback.Success, added.Log);
        output.WriteLine(handback.Value);
        Assert.True(int.Parse(handback.Groups[1].Value) >= 1, handback.Value);
        var others = pods.Take(3).ToList();
        admin = Admin(others);
        // The leaving pod's row stays, Down, with nothing allocated or held (its last in-use count is what it reported
        // before it left; those leases are in use, and counted, at the servers they moved to).
        static int LiveInUse(LicenseInfo l) => l.Servers.Where(s => s.Status == "Up").Sum(s => s.InUse);
        var after = await LicenseWhenAsync(admin, code,
            l => TotalHolds(l) && LiveInUse(l) == ledger.Outstanding && Row(l, added.ServerId) is { Status: "Down", Allocated: 0, Held: 0 },
            Timeout, "the leaving pod's seats back in the pool, every lease in use at a live server");
        output.WriteLine("3 servers again: " + Describe(after));
        Assert.Equal(7, LiveInUse(after));
        Assert.Equal(seats, others.Sum(p => after.Servers.SingleOrDefault(s => s.ServerId == p.ServerId)?.Allocated ?? 0) + after.FreePool);

        // The leaving pod's clients renewed at another server; no lease anywhere was lost.
        await Until.TrueAsync(() => Task.FromResult(atAdded.All(l => l.FailOvers > 0 && l.ServerId != added.ServerId)), Timeout, "the leaving pod's leases to move");
        Assert.All(_leases, l => Assert.False(l.IsLost, $"lease {l.LeaseId} lost"));
        await monitor.AssertNoViolationAsync();
    }

    private async Task<StatefulSetPods> RenderAsync(int replicas)
    {
        var membership = PostgresPoolFixture.Membership.ToDictionary(m => m.Key["Licensing__Membership__".Length..], m => m.Value);
        var manifests = await Helm.TemplateAsync(Release, new
        {
            replicaCount = replicas,
            orleans = new { serviceId = ServiceId, clusterId = ClusterId, membership },
            postgresql = new { connectionString = ConnectionString },
            extraEnv = new[] { new { name = "Licensing__LeaseTtl", value = "00:00:15" }, new { name = "Licensing__PoolId", value = TestSecurity.PoolId } },
            frontend = new { enabled = true },
            security = new { existingSecret = KeysSecret },
        });
        _manifests = manifests;
        var set = new StatefulSetPods(manifests, _root, new Dictionary<string, string> { [$"{KeysSecret}/keys.json"] = TestSecurity.KeysFileJson() });
        Assert.Equal(replicas, set.Replicas);
        return set;
    }

    /// <summary>Starts the given ordinals in parallel (podManagementPolicy: Parallel) with the pods' environment.</summary>
    private async Task<List<ServerProcess>> StartPodsAsync(StatefulSetPods set, params int[] ordinals)
    {
        var started = ordinals.Select(i =>
        {
            var name = set.PodName(i);
            var env = set.Environment(name, "127.0.0.1");
            Assert.Equal(name, env["Licensing__ServerId"]);
            Assert.Equal("127.0.0.1", env["Licensing__AdvertisedAddress"]);
            Assert.Equal(ConnectionString, env["ConnectionStrings__Licensing"]);
            Assert.Equal("false", env["Licensing__Security__LocalKeys"]);
            var pod = new ServerProcess(name, env["Licensing__DataPath"], settings: env, trustTestKeys: false);
            _pods.Add(pod);
            return pod;
        }).ToList();
        await Task.WhenAll(started.Select(p => p.StartAsync()));
        return started;
    }

    private const string KeysSecret = "licensing-keys";

    private LicensingClient Admin(IReadOnlyList<ServerProcess> pods) => Client([.. pods.Select(p => p.Url)], "admin", TestSecurity.AdminKey);

    /// <summary>An SDK client with 4 s attempts (leases live 15 s here): the tests share two cores with the four servers.</summary>
    private LicensingClient Client(IReadOnlyList<Uri> servers, string clientId, string? apiKey = null) =>
        Track(new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = [.. servers];
            o.ClientId = clientId;
            o.ApiKey = apiKey ?? TestSecurity.ClientKey;
            o.AttemptTimeout = TimeSpan.FromSeconds(4);
        }).Services.BuildServiceProvider()).GetRequiredService<LicensingClient>();

    /// <summary>SDK leases (renewed in the background) by a client that lists <paramref name="first"/> first.</summary>
    private async Task<List<LicenseLease>> AcquireAsync(IReadOnlyList<ServerProcess> pods, ServerProcess first, string code, int leases, SeatLedger ledger)
    {
        var servers = new List<Uri> { first.Url };
        servers.AddRange(pods.Where(p => p != first).Select(p => p.Url));
        var client = Client(servers, $"client-{first.ServerId[^1..]}-{Guid.NewGuid():N}"[..24]);
        var acquired = new List<LicenseLease>();
        for (var i = 0; i < leases; i++)
        {
            var lease = await client.AcquireAsync(code);
            ledger.Granted(lease.LeaseId, lease.Count);
            Assert.Equal(first.ServerId, lease.ServerId);
            acquired.Add(lease);
            _leases.Add(lease);
        }

        return acquired;
    }

    private ServiceProvider Track(ServiceProvider services)
    {
        _services.Add(services);
        return services;
    }
}
