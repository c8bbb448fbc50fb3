using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// HAProxy of our own on a free loopback port, balancing every request (not connection) round-robin over the
/// servers, as a Kubernetes Service with an HTTP-aware ingress in front of the pods does. Benchmark-only: when
/// haproxy is not installed the row is "not measured" with how to install it.
/// </summary>
internal sealed class HaProxy : IAsyncDisposable
{
    private static readonly string[] Binaries = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"];
    private readonly Process _process;
    private readonly string _directory;

    private HaProxy(Process process, string directory, Uri url) => (_process, _directory, Url) = (process, directory, url);

    public Uri Url { get; }

    public int ProcessId => _process.Id;

    public static async Task<(HaProxy? Proxy, string? Missing)> StartAsync(IReadOnlyList<Uri> servers)
    {
        if (Binaries.FirstOrDefault(File.Exists) is not { } binary) return (null, "haproxy is not installed: `apt-get install -y haproxy` (Debian package) and run again");
        var port = Ports.Free();
        var directory = Directory.CreateTempSubdirectory("licensing-bench-haproxy-").FullName;
        var config = Path.Combine(directory, "haproxy.cfg");
        await File.WriteAllTextAsync(config, string.Join('\n',
        [
            "global",
            "    maxconn 4000",
            "    nbthread 1",
            "defaults",
            "    mode http",
            "    timeout connect 5s",
            "    timeout client 60s",
            "    timeout server 60s",
            "    option http-keep-alive",
            "    http-reuse always",
            $"frontend api",
            $"    bind 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            "    default_backend servers",
            "backend servers",
            "    balance roundrobin",
            .. servers.Select((s, i) => $"    server s{i} {s.Host}:{s.Port.ToString(CultureInfo.InvariantCulture)}"),
            "",
        ]));
        var start = new ProcessStartInfo(binary, ["-f", config, "-db"]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var proxy = new HaProxy(process, directory, new Uri($"http://127.0.0.1:{port}/"));
        for (var until = DateTime.UtcNow.AddSeconds(10); ;)
        {
            if (process.HasExited)
            {
                var exited = $"haproxy exited with {process.ExitCode}: {string.Join(" | ", output.TakeLast(5))}";
                await proxy.DisposeAsync();
                return (null, exited);
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return (proxy, null);
            }
            catch (SocketException) when (DateTime.UtcNow < until)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
