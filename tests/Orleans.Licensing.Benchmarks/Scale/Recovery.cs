using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Orleans.Licensing.Benchmarks.Compare;

namespace Orleans.Licensing.Benchmarks.Scale;

/// <summary>
/// Part 3: recovery after a killed server. Three Orleans.Licensing.Server processes in PostgreSQL mode. One code of 2N
/// seats with explicit shares: server-1 ("A") N + N/2, server-0 and server-2 N/4 each; N leases of count 1 checked out
/// at A. Then SIGKILL of A, and clients send their heartbeat to server-0 or server-2 naming A (a fail-over update).
/// </summary>
internal static class Recovery
{
    public const string Part = "3 recovery";
    private const int A = 1;
    private const string AId = "server-1";

    private sealed record Poll(double At, int Seats, int FreePool, int AllocatedSum, int InUseUp, string AStatus, int AAllocated, int AHeld, string Leader);

    public static async Task<List<Measure>> RunAsync(ScaleSettings s)
    {
        var n = s.FailoverLeases;
        var env = new Dictionary<string, string> { ["Licensing__LeaseTtl"] = "00:10:00" };
        if (s.FastMembership)
        {
            foreach (var (k, v) in new Dictionary<string, string>
                     {
                         ["Licensing__Membership__ProbeTimeout"] = "00:00:01", ["Licensing__Membership__NumMissedProbesLimit"] = "2",
                         ["Licensing__Membership__NumVotesForDeathDeclaration"] = "1", ["Licensing__Membership__TableRefreshTimeout"] = "00:00:01",
                         ["Licensing__Membership__IAmAliveTablePublishTimeout"] = "00:00:05",
                     }) env[k] = v;
        }

        var membership = s.FastMembership ? "fast membership (ProbeTimeout 1 s, 2 missed probes, 1 vote, table refresh 1 s)" : "Orleans' default membership settings";
        Console.WriteLine($"-- part {Part}: 3 server processes, PostgreSQL mode, {membership}, lease TTL 10 min; {n:N0} leases at {AId}, {s.FailoverInFlight} clients in flight; budget {s.RecoveryBudget.TotalSeconds} s per phase");
        var (servers, missing) = await HttpServers.StartAsync(s.ConnectionString, 3, env);
        if (servers is null) return [Measure.Missing(Part, "recovery", "s", missing ?? "the servers did not start")];
        await using (servers)
        {
            return await MeasureAsync(servers, s, n, membership);
        }
    }

    private static async Task<List<Measure>> MeasureAsync(HttpServers servers, ScaleSettings s, int n, string membership)
    {
        var measures = new List<Measure>();
        string? firstDenial = null;
        var http = servers.AdminHttp;
        var code = $"s{Guid.NewGuid():N}"[..7] + "-rec";
        var seats = 2 * n;
        var shares = new Dictionary<string, int> { ["server-0"] = n / 4, [AId] = n + n / 2, ["server-2"] = seats - n / 4 - (n + n / 2) };
        using (var added = await http.PostAsJsonAsync(new Uri(servers.Url(0), "api/v1/licenses"), new { grant = servers.Credentials.CodeGrant(code, seats), distribution = new { shares } }))
        {
            if (!added.IsSuccessStatusCode) return [Measure.Missing(Part, "recovery", "s", $"adding the code answered {(int)added.StatusCode}: {await added.Content.ReadAsStringAsync()}")];
        }

        var leasesUri = (int server) => new Uri(servers.Url(server), $"api/v1/licenses/{code}/leases/");
        var checkout = await Driver.RunAsync(n, s.FailoverInFlight, s.RecoveryBudget, async i =>
        {
            using var r = await http.PostAsJsonAsync(leasesUri(A), new { clientId = $"client-{i}", count = 1, leaseId = $"lease-{i:D6}" });
            if (r.StatusCode == HttpStatusCode.Created) return true;
            if (r.StatusCode == HttpStatusCode.Conflict) return false;
            throw new HttpRequestException($"checkout answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        });
        Console.WriteLine($"   leases at {AId}: {checkout.Summary()}");
        if (checkout.Completed != n) return [Measure.Missing(Part, "recovery", "s", $"only {checkout.Completed} of {n} leases were checked out at {AId}: {checkout.FirstError}")];
        var before = await PollAsync(http, servers.Url(0), code, 0);
        Console.WriteLine($"   before the kill: leader {before?.Leader}, {AId} allocated {before?.AAllocated}, in use on up servers {before?.InUseUp}");

        // The kill, then three things at once: the clients' fail-over updates, the invariant poll, and (after every
        // lease is adopted) the probe for A's unused allocations.
        var clock = Stopwatch.StartNew();
        servers.Kill(A);
        Console.WriteLine($"   SIGKILL {AId}");
        var polls = new List<Poll>();
        using var stopPolling = new CancellationTokenSource();
        var poller = Task.Run(async () =>
        {
            while (!stopPolling.IsCancellationRequested)
            {
                if (await PollAsync(http, servers.Url(0), code, clock.Elapsed.TotalSeconds) is { } p) lock (polls) polls.Add(p);
                try
                {
                    await Task.Delay(250, stopPolling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        var mismatched = 0;
        var retries = 0;
        string? firstRetry = null;
        var adoptedAt = new double[n];
        var failover = await Driver.RunAsync(n, s.FailoverInFlight, s.RecoveryBudget, async i =>
        {
            var target = i % 2 == 0 ? 0 : 2;
            while (true)
            {
                try
                {
                    using var r = await http.PutAsJsonAsync(new Uri(leasesUri(target), $"lease-{i:D6}"), new { clientId = $"client-{i}", count = 1, serverId = AId });
                    if (r.StatusCode == HttpStatusCode.OK)
                    {
                        using var lease = JsonDocument.Parse(await r.Content.ReadAsStreamAsync());
                        var root = lease.RootElement;
                        if (root.GetProperty("leaseId").GetString() != $"lease-{i:D6}" || root.GetProperty("count").GetInt32() != 1 || root.GetProperty("serverId").GetString() == AId)
                        {
                            Interlocked.Increment(ref mismatched);
                        }

                        adoptedAt[i] = clock.Elapsed.TotalSeconds;
                        return true;
                    }

                    var body = await r.Content.ReadAsStringAsync();
                    if (Interlocked.Increment(ref retries) == 1) firstRetry = $"{(int)r.StatusCode}: {Driver.Short(body)}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    if (Interlocked.Increment(ref retries) == 1) firstRetry = $"{e.GetType().Name}: {Driver.Short(e.Message)}";
                }

                if (clock.Elapsed > s.RecoveryBudget) throw new TimeoutException($"lease-{i:D6} not adopted within {s.RecoveryBudget.TotalSeconds} s");
                await Task.Delay(100);
            }
        });
        var allAdopted = failover.Completed == n ? adoptedAt.Max() : (double?)null;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   fail-over: {failover.Summary()}; retried updates {retries}{(firstRetry is null ? "" : $" (first: {firstRetry})")}; every lease adopted after {allAdopted?.ToString("F2", CultureInfo.InvariantCulture) ?? "-"} s"));

        // (b) A's unused allocations as a source: the leader shows A down, and a checkout that needs them is granted.
        // The probe asks for every allocation not backing a lease (seats - n): without A's unused it cannot be granted.
        double? probeGranted = null;
        string? probeLast = null;
        while (clock.Elapsed < s.RecoveryBudget)
        {
            using var r = await http.PostAsJsonAsync(leasesUri(2), new { clientId = "probe", count = seats - n, leaseId = "probe" });
            if (r.StatusCode == HttpStatusCode.Created)
            {
                probeGranted = clock.Elapsed.TotalSeconds;
                using var checkin = await http.DeleteAsync(new Uri(leasesUri(2), "probe?clientId=probe"));
                break;
            }

            probeLast = $"{(int)r.StatusCode}: {Driver.Short(await r.Content.ReadAsStringAsync())}";
            await Task.Delay(250);
        }

        Console.WriteLine($"   probe for {AId}'s unused allocations: {(probeGranted is { } g ? $"granted after {g:F2} s" : $"not granted ({probeLast})")}");
        await stopPolling.CancelAsync();
        await poller;
        Poll[] seen;
        lock (polls) seen = [.. polls];
        var down = seen.FirstOrDefault(p => p.AStatus == "Down");
        var violations = seen.Where(p => p.AllocatedSum + p.FreePool != p.Seats || p.AllocatedSum > p.Seats || p.InUseUp > p.Seats).ToList();
        var maxInUse = seen.Length == 0 ? 0 : seen.Max(p => p.InUseUp);

        // (c) restart A: until /readyz answers 200, and until A grants a checkout.
        var restart = Stopwatch.StartNew();
        var url = servers.Restart(A);
        double? ready = null, served = null;
        string? lastAnswer = null;
        while (restart.Elapsed < s.RecoveryBudget && ready is null)
        {
            try
            {
                using var r = await http.GetAsync(new Uri(url, "readyz"));
                if (r.StatusCode == HttpStatusCode.OK) ready = restart.Elapsed.TotalSeconds;
                else lastAnswer = $"readyz {(int)r.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                lastAnswer = Driver.Short(e.Message);
            }

            if (ready is null) await Task.Delay(100);
        }

        while (ready is not null && restart.Elapsed < s.RecoveryBudget && served is null)
        {
            try
            {
                using var r = await http.PostAsJsonAsync(leasesUri(A), new { clientId = "after-restart", count = 1, leaseId = "after-restart" });
                if (r.StatusCode == HttpStatusCode.Created) served = restart.Elapsed.TotalSeconds;
                else firstDenial ??= lastAnswer = $"checkout {(int)r.StatusCode}: {Driver.Short(await r.Content.ReadAsStringAsync())}";
            }
            catch (HttpRequestException e)
            {
                lastAnswer = Driver.Short(e.Message);
            }

            if (served is null) await Task.Delay(100);
        }

        Console.WriteLine($"   restart of {AId}: /readyz 200 after {ready?.ToString("F2", CultureInfo.InvariantCulture) ?? "-"} s, first checkout granted after {served?.ToString("F2", CultureInfo.InvariantCulture) ?? "-"} s{(lastAnswer is null ? "" : $" (last other answer: {lastAnswer})")}");
        var after = await PollAsync(http, servers.Url(0), code, clock.Elapsed.TotalSeconds);
        if (after is not null && (after.AllocatedSum + after.FreePool != after.Seats || after.InUseUp > after.Seats)) violations.Add(after);
        Console.WriteLine($"   after the restart: in use on up servers {after?.InUseUp} (expected {n + (served is null ? 0 : 1)}), {AId} {after?.AStatus} allocated {after?.AAllocated}");

        var storage = await StorageUse.QueryAsync(s.ConnectionString, servers.ClusterId);
        var pool = storage.ByState.GetValueOrDefault("pool");
        Console.WriteLine($"   storage after the restart: {storage.Detail()}");
        var setup = $"{n:N0} leases of count 1 at {AId} (of {seats:N0} seats: {AId} {n + n / 2:N0}, server-0 {n / 4:N0}, server-2 {shares["server-2"]:N0}); leader {before?.Leader ?? "?"}; {membership}; {s.FailoverInFlight} clients in flight, each retrying every 100 ms";
        measures.Add(allAdopted is { } adopted
            ? new Measure(Part, "(a) kill → every lease adopted by another server", Math.Round(adopted, 2), "s",
                $"{setup}; same lease id and count: {n - mismatched} of {n}; adopted before the leader showed {AId} down: {(down is null ? "?" : adoptedAt.Count(t => t > 0 && t < down.At).ToString(CultureInfo.InvariantCulture))} of {n}; retried updates {retries}{(firstRetry is null ? "" : $" (first: {firstRetry})")}; adopted by 50%: {Median(adoptedAt):F2} s")
            : Measure.Missing(Part, "(a) kill → every lease adopted by another server", "s", $"{failover.Completed} of {n} adopted within {s.RecoveryBudget.TotalSeconds} s; {failover.FirstError ?? firstRetry}"));
        measures.Add(new Measure(Part, "invariant: distribution never counts more than the seats", violations.Count == 0 ? 0 : violations.Count, "violations",
            string.Create(CultureInfo.InvariantCulture, $"{seen.Length + 1} polls of GET /api/v1/licenses/{{code}} at server-0 every 250 ms (Σ allocated + free pool = seats, Σ allocated ≤ seats, Σ in use on up servers ≤ seats); max Σ in use on up servers {maxInUse}{(violations.Count == 0 ? "" : $"; first violation: {violations[0]}")}")));
        measures.Add(down is not null
            ? new Measure(Part, $"(b) kill → leader shows {AId} down (its unused allocations a source)", Math.Round(down.At, 2), "s",
                $"at that poll {AId} allocated {down.AAllocated}, held {down.AHeld}; poll resolution 250 ms + the GET's time")
            : Measure.Missing(Part, $"(b) kill → leader shows {AId} down", "s", $"not seen down in {seen.Length} polls within {s.RecoveryBudget.TotalSeconds} s"));
        measures.Add(probeGranted is { } pg
            ? new Measure(Part, $"(b) kill → a checkout that needs {AId}'s unused allocations is granted", Math.Round(pg, 2), "s",
                $"count {seats - n} (every seat not backing a lease) at server-2, tried every 250 ms once every lease was adopted, so it is never earlier than (a)")
            : Measure.Missing(Part, $"(b) kill → a checkout that needs {AId}'s unused allocations is granted", "s", $"never granted within the budget; last answer {probeLast}"));
        measures.Add(ready is { } rd
            ? new Measure(Part, $"(c) restart {AId} → /readyz 200", Math.Round(rd, 2), "s", "process start (dotnet) included")
            : Measure.Missing(Part, $"(c) restart {AId} → /readyz 200", "s", $"not ready within the budget; {lastAnswer}"));
        measures.Add(served is { } sv
            ? new Measure(Part, $"(c) restart {AId} → {AId} grants a checkout", Math.Round(sv, 2), "s",
                $"after the restart the leader shows {after?.InUseUp} in use on up servers (expected {n + 1}: every adopted lease once, plus this checkout); {AId} allocated {after?.AAllocated}{(firstDenial is null ? "" : $"; checkouts at {AId} were refused before (first: {firstDenial})")}")
            : Measure.Missing(Part, $"(c) restart {AId} → {AId} grants a checkout", "s", $"no checkout granted within the budget; {lastAnswer}"));
        measures.Add(new Measure(Part, "leader record (PoolState) after the fail-over", Math.Round(pool.Bytes / 1024.0, 1), "KB",
            $"one row per code, rewritten whole by every Borrow (each adoption is one); it keeps every adopted lease until that lease would have expired; all rows of the pool: {storage.Detail()}"));
        return measures;
    }

    /// <summary>The server API writes enums as names; a number is mapped the same way.</summary>
    private static string StatusName(JsonElement status) =>
        status.ValueKind == JsonValueKind.Number ? ((ServerStatus)status.GetInt32()).ToString() : status.GetString() ?? "?";

    private static double Median(double[] values) => values.Length == 0 ? double.NaN : values.Order().ElementAt(values.Length / 2);

    private static async Task<Poll?> PollAsync(HttpClient http, Uri server, string code, double at)
    {
        try
        {
            using var r = await http.GetAsync(new Uri(server, $"api/v1/licenses/{code}"));
            if (!r.IsSuccessStatusCode) return null;
            using var json = JsonDocument.Parse(await r.Content.ReadAsStreamAsync());
            var root = json.RootElement;
            var rows = root.GetProperty("servers").EnumerateArray().Select(e => (
                Id: e.GetProperty("serverId").GetString()!, Status: StatusName(e.GetProperty("status")), Allocated: e.GetProperty("allocated").GetInt32(),
                InUse: e.GetProperty("inUse").GetInt32(), Held: e.GetProperty("held").GetInt32())).ToList();
            var a = rows.FirstOrDefault(x => x.Id == AId);
            return new Poll(at, root.GetProperty("seats").GetInt32(), root.GetProperty("freePool").GetInt32(), rows.Sum(x => x.Allocated),
                rows.Where(x => x.Status == "Up").Sum(x => x.InUse), a.Status ?? "?", a.Allocated, a.Held, root.GetProperty("leader").GetString() ?? "?");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }
}
