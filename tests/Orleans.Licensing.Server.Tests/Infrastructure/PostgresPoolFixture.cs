using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>
/// Three real license server processes (separate OS processes, loopback ports) on one PostgreSQL database: ADO.NET
/// clustering and grain storage, exactly as an operator runs them (<c>ConnectionStrings__Licensing</c>). Every fixture
/// instance uses a fresh ClusterId and ServiceId, so its membership rows and grain state never meet another run's.
/// </summary>
/// <remarks>
/// The connection string comes from <see cref="Variable"/>. Without it the tests are skipped locally
/// (<see cref="PostgresProcessFactAttribute"/>); under <c>CI=true</c> they are not skipped and the fixture fails them.
/// </remarks>
public abstract class PostgresPoolFixture : IAsyncLifetime
{
    /// <summary>
    /// Not LICENSING_TEST_POSTGRES: that one switches the in-process core suite to PostgreSQL, and CI runs the solution
    /// without it on purpose (the core suite's embedded-store run).
    /// </summary>
    public const string Variable = "LICENSING_PROCESS_POSTGRES";

    public static readonly string[] ServerIds = ["pg-a", "pg-b", "pg-c"];

    /// <summary>Shrunk failure detection, so that a SIGKILLed server is declared dead within seconds.</summary>
    public static readonly IReadOnlyDictionary<string, string> Membership = new Dictionary<string, string>
    {
        ["Licensing__Membership__ProbeTimeout"] = "00:00:01",
        ["Licensing__Membership__NumMissedProbesLimit"] = "2",
        ["Licensing__Membership__NumVotesForDeathDeclaration"] = "1",
        ["Licensing__Membership__TableRefreshTimeout"] = "00:00:01",
        ["Licensing__Membership__IAmAliveTablePublishTimeout"] = "00:00:05",
    };

    private readonly List<string> _dataPaths = [];

    private readonly IReadOnlyDictionary<string, string> _settings;

    /// <param name="membership">Failure detection settings; null: the shrunk <see cref="Membership"/>, empty: Orleans' defaults.</param>
    protected PostgresPoolFixture(TimeSpan leaseTtl, IReadOnlyDictionary<string, string>? settings = null,
        IReadOnlyDictionary<string, string>? membership = null)
    {
        LeaseTtl = leaseTtl;
        _settings = settings ?? new Dictionary<string, string>();
        MembershipSettings = membership ?? Membership;
        var run = Guid.NewGuid().ToString("N")[..12];
        ClusterId = $"test-cluster-{run}";
        ServiceId = $"test-service-{run}";
    }

    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public TimeSpan LeaseTtl { get; }

    public string ClusterId { get; }

    public string ServiceId { get; }

    public IReadOnlyList<ServerProcess> Servers { get; private set; } = [];

    public ServerProcess this[string serverId] => Servers.Single(s => s.ServerId == serverId);

    public IReadOnlyDictionary<string, string> MembershipSettings { get; }

    public string MembershipSummary => MembershipSettings.Count == 0 ? "Orleans defaults" : string.Join(", ", MembershipSettings.Select(m => $"{m.Key["Licensing__Membership__".Length..]}={m.Value}"));

    public async Task InitializeAsync()
    {
        if (ConnectionString is not { } connectionString)
        {
            if (IsCi) throw new InvalidOperationException($"CI=true but {Variable} is not set: the PostgreSQL pool tests must run in CI.");
            return;   // the tests are skipped
        }

        Servers = [.. ServerIds.Select(id =>
        {
            var data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
            _dataPaths.Add(data);
            var settings = new Dictionary<string, string>(MembershipSettings)
            {
                ["ConnectionStrings__Licensing"] = connectionString,
                ["Licensing__ClusterId"] = ClusterId,
                ["Licensing__ServiceId"] = ServiceId,
                ["Licensing__AdvertisedAddress"] = "127.0.0.1",
                ["Licensing__LeaseTtl"] = LeaseTtl.ToString(),
            };
            foreach (var (key, value) in _settings) settings[key] = value;
            return new ServerProcess(id, data, settings: settings);
        })];

        // One after the other: each joins through the membership table in PostgreSQL (no primary).
        foreach (var server in Servers) await server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(Servers.Select(s => s.DisposeAsync().AsTask()));
        foreach (var path in _dataPaths) PoolFixture.TryDelete(path);
        if (ConnectionString is { } connectionString && Servers.Count > 0) await PostgresRows.DeleteAsync(connectionString, ClusterId, ServiceId);
    }

    /// <summary>Restarts any server a test left stopped, so that every test starts with the whole pool.</summary>
    public async Task EnsureAllRunningAsync()
    {
        foreach (var server in Servers.Where(s => s.HasExited)) await server.StartAsync();
    }

    /// <summary>An SDK client whose server list starts at <paramref name="first"/>, then the other servers.</summary>
    public ServiceProvider ClientServices(ServerProcess first, string clientId) =>
        ClientServices([first.Url, .. Servers.Where(s => s != first).Select(s => s.Url)], clientId);

    /// <summary>An SDK client that talks to the given servers only.</summary>
    public static ServiceProvider ClientServices(IReadOnlyList<Uri> servers, string clientId, TestRole role = TestRole.Client) =>
        new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = [.. servers];
            o.ClientId = clientId;
            o.ApiKey = TestSecurity.KeyOf(role);
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
        }).Services.BuildServiceProvider();
}

/// <summary>Short leases (renew after 2 s), so that clients of a killed server fail over within a test.</summary>
public sealed class PostgresFailureFixture() : PostgresPoolFixture(TimeSpan.FromSeconds(6));

/// <summary>
/// Minute-long leases, so that leases outlive a restart of every server. No re-distribution: the restart test compares
/// every allocation before and after, and a re-distribution (periodic, or the early one when a server rejoins below its
/// base share) rightly hands a borrower's surplus back to the free pool in between.
/// </summary>
public sealed class PostgresRestartFixture() : PostgresPoolFixture(TimeSpan.FromSeconds(60),
    new Dictionary<string, string> { ["Licensing__RedistributeInterval"] = "00:00:00" });

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresFailureCollection : ICollectionFixture<PostgresFailureFixture>
{
    public const string Name = "Three servers on PostgreSQL: failures";
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresRestartCollection : ICollectionFixture<PostgresRestartFixture>
{
    public const string Name = "Three servers on PostgreSQL: restarts";
}

/// <summary>Skipped when <see cref="PostgresPoolFixture.Variable"/> is unset, except under <c>CI=true</c>, where the fixture fails instead.</summary>
public sealed class PostgresProcessFactAttribute : FactAttribute
{
    public PostgresProcessFactAttribute()
    {
        if (PostgresPoolFixture.ConnectionString is null && !PostgresPoolFixture.IsCi)
        {
            Skip = $"{PostgresPoolFixture.Variable} is not set (set it to a PostgreSQL connection string with the schema of sql/; CI sets it).";
        }
    }
}

/// <summary>
/// What the clients were granted and have not released yet, seen from the clients' side. The peak must never exceed
/// the seats of the license code: the pool never over-issues at any moment.
/// </summary>
public sealed class SeatLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _outstanding = new(StringComparer.Ordinal);
    private int _sum;

    public int Peak { get; private set; }

    public int Outstanding
    {
        get { lock (_gate) return _sum; }
    }

    /// <summary>Call as soon as the grant is known (before anything else happens to the lease).</summary>
    public void Granted(string leaseId, int count)
    {
        lock (_gate)
        {
            if (!_outstanding.TryAdd(leaseId, count)) throw new InvalidOperationException($"Lease {leaseId} granted twice.");
            _sum += count;
            Peak = Math.Max(Peak, _sum);
        }
    }

    /// <summary>Call only after the check-in has completed.</summary>
    public void Released(string leaseId)
    {
        lock (_gate)
        {
            if (_outstanding.Remove(leaseId, out var count)) _sum -= count;
        }
    }
}
