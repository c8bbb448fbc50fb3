using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>
/// One real license server: the built Orleans.Licensing.Server.dll run with <c>dotnet</c>, configured through
/// environment variables exactly as an operator would, on free loopback ports.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly StringBuilder _log = new();
    private readonly Dictionary<string, string> _environment;
    private Process? _process;
    private readonly List<Process> _exited = [];

    private readonly string _app;
    private readonly string _readyPath;

    public ServerProcess(string serverId, string dataPath, int? primarySiloPort = null, IReadOnlyDictionary<string, string>? settings = null,
        string app = "Orleans.Licensing.Server", string readyPath = "readyz", bool trustTestKeys = true)
    {
        _app = app;
        _readyPath = readyPath;
        ServerId = serverId;
        DataPath = dataPath;
        HttpPort = FreePort();
        SiloPort = FreePort();
        GatewayPort = FreePort();
        _environment = new()
        {
            ["Licensing__ServerId"] = serverId,
            ["Licensing__DataPath"] = dataPath,
            ["Licensing__SiloPort"] = SiloPort.ToString(),
            ["Licensing__GatewayPort"] = GatewayPort.ToString(),
            ["ASPNETCORE_URLS"] = Url.ToString(),
            ["DOTNET_gcServer"] = "0",
            ["Logging__LogLevel__Default"] = "Warning",
            // LICENSING_FAULT_LOG_LEVEL=Debug adds every commit of a server and the leader's table (the diagnostics of docs/safety.md).
            ["Logging__LogLevel__Orleans.Licensing"] = Environment.GetEnvironmentVariable("LICENSING_FAULT_LOG_LEVEL") ?? "Information",
            // UTC wall clock on every line: a fault report lines the servers' logs up with the clients' ledger.
            ["Logging__Console__TimestampFormat"] = "HH:mm:ss.fff ",
            ["Logging__Console__UseUtcTimestamp"] = "true",
        };
        if (trustTestKeys)
        {
            foreach (var (key, value) in TestSecurity.Environment) _environment[key] = value;
        }
        if (primarySiloPort is { } primary) _environment["Licensing__PrimarySiloEndpoint"] = $"127.0.0.1:{primary}";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) _environment[key] = value;
    }

    public string ServerId { get; }

    /// <summary>Sets an environment variable of the next start (settings that need this server's ports).</summary>
    public void SetEnvironment(string key, string value) => _environment[key] = value;

    public string DataPath { get; }

    public int HttpPort { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public Uri Url => new($"http://127.0.0.1:{HttpPort}/");

    /// <summary>An HTTP client of this server's REST API with the API key of <paramref name="role"/> (admin: may do everything).</summary>
    public HttpClient CreateHttpClient(TestRole role = TestRole.Admin, TimeSpan? timeout = null)
    {
        var http = new HttpClient { BaseAddress = Url, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        TestSecurity.Authorize(http, role);
        return http;
    }

    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>SIGSTOPped and not resumed yet: the process is alive but answers nothing (a GC or VM pause).</summary>
    public bool IsPaused { get; private set; }

    /// <summary>How many times the process was started (a restart keeps the server id, ports and data path).</summary>
    public int Starts { get; private set; }

    /// <summary>The exit code of the last process, when it has exited.</summary>
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Starts the process and waits until <c>/readyz</c> says it joined the cluster and reaches storage.</summary>
    public Task StartAsync() => StartAsync(waitUntilReady: true);

    /// <param name="waitUntilReady">False: return once started (a server that is expected never to join).</param>
    public async Task StartAsync(bool waitUntilReady)
    {
        var start = new ProcessStartInfo("dotnet", [AppDll(_app)])
        {
            WorkingDirectory = DataPath,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in _environment) start.Environment[key] = value;
        Directory.CreateDirectory(DataPath);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        // The previous run of this server, if any, has exited. It is disposed only with this object: a supervisor
        // polling HasExited on another thread may still hold it, and a disposed Process throws there.
        if (_process is not null) _exited.Add(_process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        IsPaused = false;
        Starts++;
        if (!waitUntilReady) return;

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Until.TrueAsync(async () =>
        {
            if (process.HasExited)
            {
                // HasExited turns true before the output readers reach the end of the pipes: WaitForExit (no
                // timeout) also waits for both, so the log holds the server's last words (CI once saw it empty).
                process.WaitForExit();
                throw new InvalidOperationException($"Server {ServerId} exited with {process.ExitCode}:\n{Log}");
            }
            try
            {
                return (await http.GetAsync(new Uri(Url, _readyPath))).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, StartTimeout, $"server {ServerId} to be ready");
    }

    /// <summary>Graceful stop (SIGTERM, as Kubernetes does): the server finishes requests and hands allocations back.</summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } process) return;
        if (SysKill(process.Id, 15) != 0) throw new InvalidOperationException($"kill -TERM {process.Id} failed");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>A crash: SIGKILL, nothing is flushed or handed back.</summary>
    public async Task KillAsync()
    {
        if (_process is not { HasExited: false } process) return;
        process.Kill(entireProcessTree: true);   // SIGKILL ends a stopped process too
        await process.WaitForExitAsync();
        IsPaused = false;
    }

    /// <summary>SIGSTOP: the process freezes (sockets stay open, so peers and clients see timeouts, not refusals).</summary>
    public void Pause()
    {
        if (_process is not { HasExited: false } process) throw new InvalidOperationException($"Server {ServerId} is not running.");
        if (SysKill(process.Id, SigStop) != 0) throw new InvalidOperationException($"kill -STOP {process.Id} failed");
        IsPaused = true;
    }

    /// <summary>SIGCONT: the process runs on from where it stopped, unaware of the time that passed.</summary>
    public void Resume()
    {
        IsPaused = false;
        if (_process is not { HasExited: false } process) return;
        if (SysKill(process.Id, SigCont) != 0) throw new InvalidOperationException($"kill -CONT {process.Id} failed");
    }

    /// <summary>Kills the process if it runs; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        _process = null;
        foreach (var exited in _exited) exited.Dispose();
        _exited.Clear();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    private static string AppDll(string app)
    {
        // Tests run from tests/X/bin/{Configuration}/net10.0; the server is built (project reference) beside it.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = testBin.Parent!.Name;
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Orleans.Licensing.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("Orleans.Licensing.sln not found above " + AppContext.BaseDirectory);
        var dll = Path.Combine(root.FullName, "src", app, "bin", configuration, "net10.0", app + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build {app} first.", dll);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // Linux signal numbers (x86-64 and arm64).
    private const int SigCont = 18;
    private const int SigStop = 19;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
