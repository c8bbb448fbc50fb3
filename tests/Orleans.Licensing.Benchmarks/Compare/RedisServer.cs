using System.Diagnostics;
using StackExchange.Redis;

namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>A redis-server of our own on a free loopback port, with the AOF fsynced on every write; removed on dispose.</summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private RedisServer(Process process, string directory, int port, string description)
    {
        (_process, _directory, Port, Description) = (process, directory, port, description);
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public string Description { get; }

    private static readonly string[] Binaries = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

    /// <summary>The server, or null (and why) when redis-server is not installed and could not be installed.</summary>
    public static async Task<(RedisServer? Server, string? Missing)> StartAsync()
    {
        var binary = Binaries.FirstOrDefault(File.Exists);
        if (binary is null)
        {
            var installed = await InstallAsync();
            binary = Binaries.FirstOrDefault(File.Exists);
            if (binary is null) return (null, $"redis-server is not installed and `apt-get install -y redis-server` failed: {installed}");
        }

        var port = Ports.Free();
        var directory = Directory.CreateTempSubdirectory("licensing-bench-redis-").FullName;
        var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     "--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", directory,
                     "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no", "--logfile", "",
                 })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var until = DateTime.UtcNow.AddSeconds(20);
        try
        {
            while (true)
            {
                try
                {
                    await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},connectTimeout=1000,allowAdmin=true");
                    var server = redis.GetServer("127.0.0.1", port);
                    var config = (await server.ConfigGetAsync("append*")).ToDictionary(p => p.Key, p => p.Value);
                    var version = server.Version;
                    return (new RedisServer(process, directory, port,
                        $"redis-server {version} on 127.0.0.1:{port}, appendonly={config.GetValueOrDefault("appendonly")}, appendfsync={config.GetValueOrDefault("appendfsync")}, no RDB snapshots"), null);
                }
                catch (RedisConnectionException) when (DateTime.UtcNow < until && !process.HasExited)
                {
                    await Task.Delay(200);
                }
            }
        }
        catch
        {
            if (!process.HasExited) process.Kill();
            process.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>A fresh machine (Debian) has no redis-server: install the distribution's package, as CI installs PostgreSQL.</summary>
    private static async Task<string> InstallAsync()
    {
        Console.WriteLine("   redis-server is not installed: apt-get install -y redis-server ...");
        var output = new System.Text.StringBuilder();
        foreach (var args in new[] { "update -q", "install -y -q redis-server" })
        {
            var start = new ProcessStartInfo("apt-get", args) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            try
            {
                using var process = Process.Start(start)!;
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                output.Append(await stderr);
                if (process.ExitCode != 0) return $"apt-get {args} exited with {process.ExitCode}: {Tail(output.ToString())}";
                _ = await stdout;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return $"apt-get could not be started: {e.Message}";
            }
        }

        return "installed";
    }

    private static string Tail(string text) => text.Length <= 300 ? text.Trim() : text[^300..].Trim();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
