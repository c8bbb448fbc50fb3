using System.Collections.Concurrent;

namespace Orleans.Licensing.Server.Tests.Infrastructure.Faults;

/// <summary>
/// Keeps the three servers running as a Kubernetes StatefulSet would: a server process that exits (e.g. an Orleans
/// silo resumed after the others declared it dead stops itself) is started again with the same server id, unless the
/// test keeps it down on purpose. Faults go through here so that the timeline shows them.
/// </summary>
public sealed class ServerSupervisor : IAsyncDisposable
{
    private static readonly TimeSpan DeadButRunningLimit = TimeSpan.FromSeconds(20);
    private readonly PostgresPoolFixture _pool;
    private readonly Action<string> _note;
    private readonly ConcurrentDictionary<string, bool> _keptDown = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _killed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SemaphoreSlim> _gates;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ServerSupervisor(PostgresPoolFixture pool, Action<string> note)
    {
        _pool = pool;
        _note = note;
        _gates = pool.Servers.ToDictionary(s => s.ServerId, _ => new SemaphoreSlim(1, 1));
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Starts the supervisor did on its own: processes that exited without being killed by the test.</summary>
    public int Restarts { get; private set; }

    public IEnumerable<ServerProcess> Servers => _pool.Servers;

    /// <summary>SIGKILL; the server stays down until <see cref="Revive"/>.</summary>
    public async Task KillAsync(ServerProcess server)
    {
        _keptDown[server.ServerId] = true;
        _killed[server.ServerId] = true;
        await _gates[server.ServerId].WaitAsync();
        try
        {
            await server.KillAsync();
        }
        finally
        {
            _gates[server.ServerId].Release();
        }

        _note($"SIGKILL {server.ServerId}");
    }

    public void Pause(ServerProcess server)
    {
        server.Pause();
        _note($"SIGSTOP {server.ServerId}");
    }

    public void Resume(ServerProcess server)
    {
        server.Resume();
        _note($"SIGCONT {server.ServerId}");
    }

    /// <summary>Lets a killed server be started again (by the supervisor's loop, as a StatefulSet restarts a pod).</summary>
    public void Revive(ServerProcess server) => _keptDown.TryRemove(server.ServerId, out _);

    /// <summary>
    /// Waits until the server's current process is ready and its newest membership row is Active, i.e. it rejoined
    /// (or was never declared dead). A process the others declared dead that keeps running is killed and restarted.
    /// </summary>
    public async Task AwaitServingAsync(ServerProcess server, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        DateTime? deadSince = null;
        await Until.TrueAsync(async () =>
        {
            if (server.HasExited || server.IsPaused) return false;
            var status = await PostgresRows.LatestStatusAsync(PostgresPoolFixture.ConnectionString!, _pool.ClusterId, server.ServerId);
            if (status == "Dead")
            {
                deadSince ??= DateTime.UtcNow;
                if (DateTime.UtcNow - deadSince > DeadButRunningLimit)
                {
                    _note($"{server.ServerId} was declared dead but kept running for {DeadButRunningLimit.TotalSeconds:0} s: SIGKILL");
                    await server.KillAsync();   // the loop starts it again
                    deadSince = null;
                }

                return false;
            }

            deadSince = null;
            if (status != "Active") return false;
            try
            {
                return (await http.GetAsync(new Uri(server.Url, "readyz"))).IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, timeout, $"{server.ServerId} to serve again");
    }

    /// <summary>Resumes, revives and waits for every server: the end of the faults.</summary>
    public async Task AllServingAsync(TimeSpan timeout)
    {
        foreach (var server in _pool.Servers)
        {
            if (server.IsPaused) Resume(server);
            Revive(server);
        }

        foreach (var server in _pool.Servers) await AwaitServingAsync(server, timeout);
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var server in _pool.Servers)
            {
                if (_stop.IsCancellationRequested || !server.HasExited || _keptDown.ContainsKey(server.ServerId)) continue;
                var gate = _gates[server.ServerId];
                await gate.WaitAsync();
                try
                {
                    if (!server.HasExited || _keptDown.ContainsKey(server.ServerId)) continue;
                    var revived = _killed.TryRemove(server.ServerId, out _);
                    _note(revived ? $"starting {server.ServerId} again" : $"{server.ServerId} exited on its own (exit code {server.ExitCode}): starting it again");
                    if (!revived) Restarts++;
                    await server.StartAsync();
                    _note($"{server.ServerId} started (start #{server.Starts})");
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                    _note($"{server.ServerId} failed to start: {e.Message.Split('\n')[0]}");
                    await server.KillAsync();   // tried again on the next round
                }
                finally
                {
                    gate.Release();
                }
            }

            try
            {
                await Task.Delay(250, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        foreach (var server in _pool.Servers.Where(s => s.IsPaused)) server.Resume();
    }
}
