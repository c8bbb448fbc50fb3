using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using Npgsql;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// This project over HTTP: three license server processes (the built Orleans.Licensing.Server.dll, PostgreSQL mode:
/// ADO.NET clustering and storage) on loopback ports, configured through environment variables as an operator does.
/// Client i calls the REST API of server i mod 3, or every request goes through a round-robin HAProxy in front of the
/// servers (<see cref="HaProxy"/>: a Kubernetes Service). Leader calls are read from each server's diagnostics endpoint.
/// </summary>
internal sealed class HttpServers : Contender
{
    private readonly List<(Process Process, Uri Url)> _servers = [];
    private readonly Queue<string> _log = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = int.TryParse(Environment.GetEnvironmentVariable("BENCH_HTTP_CONNECTIONS"), out var max) ? max : int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    private readonly BenchCredentials _credentials = new();
    private readonly string _connectionString;
    private readonly string _clusterId = $"bench-{Guid.NewGuid():N}"[..20];

    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string> _extraEnvironment;
    private readonly string _name;
    private readonly string _variant;
    private HaProxy? _proxy;

    private HttpServers(string connectionString, string dll, IReadOnlyDictionary<string, string>? extraEnvironment, string name, string variant)
    {
        (_connectionString, _dll, _extraEnvironment, _name, _variant) = (connectionString, dll, extraEnvironment ?? new Dictionary<string, string>(), name, variant);

        // A run stopped from outside (Ctrl+C, SIGTERM from `timeout`) must not leave server processes behind: they
        // would load the machine for the next run.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        _onSignal = [.. new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP }.Select(signal => PosixSignalRegistration.Create(signal, _ => KillAll()))];
    }

    private readonly PosixSignalRegistration[] _onSignal;

    private void KillAll()
    {
        foreach (var (process, _) in _servers.ToArray())
        {
            try
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone or disposed.
            }
        }
    }

    /// <summary>ClusterId = ServiceId of the servers' pool: the key of its rows in the grain storage table.</summary>
    public string ClusterId => _clusterId;

    /// <summary>The REST API base address of server <paramref name="index"/> (its current process).</summary>
    public Uri Url(int index) => _servers[index].Url;

    /// <summary>The HttpClient the servers are called with (no connection limit, 30 s timeout); requests carry their own credential.</summary>
    public HttpClient Http => _http;

    /// <summary>An HttpClient with the admin credential on every request: for setup, diagnostics and scenario scripts.</summary>
    public HttpClient AdminHttp => _adminHttp ??= new HttpClient { Timeout = TimeSpan.FromSeconds(30), DefaultRequestHeaders = { Authorization = _credentials.Admin } };

    private HttpClient? _adminHttp;

    public BenchCredentials Credentials => _credentials;

    /// <summary>SIGKILL of server <paramref name="index"/>'s process (a crash: no graceful leave, no hand-back).</summary>
    public void Kill(int index)
    {
        var process = _servers[index].Process;
        process.Kill();
        process.WaitForExit();
    }

    /// <summary>Starts server <paramref name="index"/> again with the same server id and pool (new ports); returns its new address at once.</summary>
    public Uri Restart(int index)
    {
        _servers[index].Process.Dispose();
        _servers[index] = StartProcess(index);
        return _servers[index].Url;
    }

    private (Process Process, Uri Url) StartProcess(int i)
    {
        var url = new Uri($"http://127.0.0.1:{Ports.Free()}/");
        var start = new ProcessStartInfo("dotnet", [_dll])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var (key, value) in new Dictionary<string, string>
                 {
                     ["ConnectionStrings__Licensing"] = _connectionString,
                     ["Licensing__ServerId"] = Cluster.ServerId(i),
                     ["Licensing__ClusterId"] = _clusterId,
                     ["Licensing__ServiceId"] = _clusterId,
                     ["Licensing__AdvertisedAddress"] = "127.0.0.1",
                     ["Licensing__SiloPort"] = Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
                     ["Licensing__GatewayPort"] = Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
                     ["ASPNETCORE_URLS"] = url.ToString().TrimEnd('/'),
                     ["DOTNET_gcServer"] = "0",
                     ["Logging__LogLevel__Default"] = "Warning",
                     ["Licensing__Security__KeysFile"] = _credentials.KeysFile,
                     ["Licensing__PoolId"] = BenchCredentials.PoolId,
                     ["Licensing__DiagnosticsEndpoint"] = "true",
                 }.Concat(_extraEnvironment))
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        var serverId = Cluster.ServerId(i);
        process.OutputDataReceived += (_, e) => Append(serverId, e.Data);
        process.ErrorDataReceived += (_, e) => Append(serverId, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, url);
    }

    public override string Name => _name;

    public override string Description =>
        $"3 license server processes (Orleans.Licensing.Server, ConnectionStrings__Licensing = PostgreSQL, {_variant}); "
        + (_proxy is null ? "client i calls POST/DELETE /api/v1/licenses/{code}/leases on server i mod 3" : "every request through HAProxy (round-robin per request) in front of the 3 servers")
        + $"; one HttpClient (max connections per server: {(int.TryParse(Environment.GetEnvironmentVariable("BENCH_HTTP_CONNECTIONS"), out var max) ? max : "unlimited")})";

    public override IReadOnlyList<int> StoreProcesses => [.. _servers.Select(s => s.Process.Id), .. _proxy is null ? [] : new[] { _proxy.ProcessId }, .. ProcessMemory.PostgresProcesses()];

    /// <summary>Every call the servers made to a leader (IPoolGrain, any method), summed over their diagnostics counters.</summary>
    public override async Task<long?> LeaderCallsAsync()
    {
        long total = 0;
        foreach (var (_, url) in _servers)
        {
            var counters = await AdminHttp.GetFromJsonAsync<Diagnostics>(new Uri(url, "api/v1/diagnostics/counters"));
            total += counters?.PoolCalls.Values.Sum() ?? 0;
        }

        return total;
    }

    private sealed record Diagnostics(string ServerId, Dictionary<string, long> PoolCalls);

    /// <param name="extraEnvironment">More settings of every server process (e.g. Licensing__LeaseTtl); they win over the defaults here.</param>
    /// <param name="name">The contender's name in the results (a row per variant).</param>
    /// <param name="variant">What differs from the defaults, for the description.</param>
    /// <param name="proxy">Put a round-robin HAProxy in front of the servers and send every request through it.</param>
    public static async Task<(HttpServers? Servers, string? Missing)> StartAsync(
        string connectionString, int count, IReadOnlyDictionary<string, string>? extraEnvironment = null, string name = "ours-http", string variant = "default settings", bool proxy = false)
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory);
        var dll = Path.Combine(Postgres.RepositoryRoot(), "src", "Orleans.Licensing.Server", "bin", bin.Parent!.Name, "net10.0", "Orleans.Licensing.Server.dll");
        if (!File.Exists(dll)) return (null, $"the server is not built ({dll})");

        var servers = new HttpServers(connectionString, dll, extraEnvironment, name, variant);
        try
        {
            for (var i = 0; i < count; i++)
            {
                servers._servers.Add(servers.StartProcess(i));
            }

            var until = DateTime.UtcNow.AddSeconds(120);
            for (var i = 0; i < count; i++)
            {
                for (var restarts = 0; ;)
                {
                    var (process, url) = servers._servers[i];
                    if (process.HasExited)
                    {
                        // A port found free a moment ago can be taken meanwhile (the previous contenders' thousands of
                        // client connections use the same ephemeral range): start it again on other ports.
                        if (restarts++ < 3 && servers.LastOutput().Contains("address already in use", StringComparison.Ordinal))
                        {
                            process.Dispose();
                            servers._servers[i] = servers.StartProcess(i);
                            continue;
                        }

                        throw new InvalidOperationException($"a server exited with {process.ExitCode} while starting; its last output:\n{servers.LastOutput()}");
                    }

                    try
                    {
                        if ((await servers._http.GetAsync(new Uri(url, "readyz"))).IsSuccessStatusCode) break;
                    }
                    catch (HttpRequestException)
                    {
                    }

                    if (DateTime.UtcNow > until) throw new TimeoutException("the servers did not become ready in 120 s");
                    await Task.Delay(250);
                }
            }

            if (proxy)
            {
                var (started, missing) = await HaProxy.StartAsync([.. servers._servers.Select(s => s.Url)]);
                if (started is null)
                {
                    await servers.DisposeAsync();
                    return (null, missing);
                }

                servers._proxy = started;
            }

            return (servers, null);
        }
        catch
        {
            await servers.DisposeAsync();
            throw;
        }
    }

    private void Append(string serverId, string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.Enqueue($"[{serverId}] {line}");
            if (_log.Count > 30) _log.Dequeue();
        }
    }

    /// <summary>The servers' last error lines (exception messages), at most five.</summary>
    public string LastOutput()
    {
        lock (_log)
        {
            return string.Join('\n', _log.Where(l => l.Contains("Exception", StringComparison.Ordinal) && !l.Contains(" at ", StringComparison.Ordinal)
                || l.Contains("MessageText", StringComparison.Ordinal)).TakeLast(5));
        }
    }

    public override async Task SetUpAsync(IReadOnlyList<string> codes, int seats)
    {
        foreach (var code in codes)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_servers[0].Url, "api/v1/licenses"))
            {
                Content = JsonContent.Create(new { grant = _credentials.CodeGrant(code, seats) }),
                Headers = { Authorization = _credentials.Admin },
            };
            using var response = await _http.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"adding license code {code} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}; server output:\n{LastOutput()}");
            }
        }
    }

    public override async Task<Func<Task>?> CheckoutAsync(int client, string code)
    {
        var server = _proxy?.Url ?? _servers[client % _servers.Count].Url;
        var leases = new Uri(server, $"api/v1/licenses/{Uri.EscapeDataString(code)}/leases/");
        using var checkout = new HttpRequestMessage(HttpMethod.Post, leases)
        {
            Content = JsonContent.Create(new { clientId = $"client-{client}", count = 1 }),
            Headers = { Authorization = _credentials.Client(client) },
        };
        using var response = await _http.SendAsync(checkout);
        if (response.StatusCode == HttpStatusCode.Conflict) return null;
        if (response.StatusCode != HttpStatusCode.Created) throw new HttpRequestException($"checkout answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        using var lease = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        var leaseId = lease.RootElement.GetProperty("leaseId").GetString()!;
        var holder = lease.RootElement.GetProperty("serverId").GetString()!;
        return async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(leases, $"{Uri.EscapeDataString(leaseId)}?clientId=client-{client}&serverId={Uri.EscapeDataString(holder)}"))
            {
                Headers = { Authorization = _credentials.Client(client) },
            };
            using var checkin = await _http.SendAsync(request);
            if (checkin.StatusCode != HttpStatusCode.NoContent) throw new HttpRequestException($"check-in answered {(int)checkin.StatusCode}: {await checkin.Content.ReadAsStringAsync()}");
        };
    }

    public override async ValueTask DisposeAsync()
    {
        if (_proxy is not null) await _proxy.DisposeAsync();
        foreach (var (process, _) in _servers)
        {
            if (!process.HasExited) _ = SysKill(process.Id, 15);
        }

        foreach (var (process, _) in _servers)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        _http.Dispose();
        _adminHttp?.Dispose();
        _credentials.Dispose();
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        foreach (var sql in new[]
                 {
                     "DELETE FROM licensing_grain_state WHERE service_id = $1",
                     "DELETE FROM OrleansMembershipTable WHERE DeploymentId = $1",
                     "DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = $1",
                 })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = _clusterId });
            await command.ExecuteNonQueryAsync();
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
