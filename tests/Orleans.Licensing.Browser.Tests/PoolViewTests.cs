using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Browser.Tests;

/// <summary>
/// The pool view (/pool/) in a real headless chromium (the system's, driven by Playwright) against two real server
/// processes: the page loads, a checkout made through the API shows as in use, a borrow appears as an event, and a
/// killed server turns "down". A screenshot is saved under TestResults/.
/// </summary>
[Trait("Category", "Browser")]
public sealed class PoolViewTests : IAsyncLifetime
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(20);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "licensing-tests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string> _settings = new()
    {
        ["Licensing__LeaseTtl"] = "00:01:00",
        ["Licensing__SweepInterval"] = "00:00:01",
        ["Licensing__UsageLog__FlushInterval"] = "00:00:00.200",
        ["Licensing__Observability__GaugeInterval"] = "00:00:01",
        // A killed server is declared dead within seconds.
        ["Licensing__Membership__ProbeTimeout"] = "00:00:01",
        ["Licensing__Membership__NumMissedProbesLimit"] = "2",
        ["Licensing__Membership__NumVotesForDeathDeclaration"] = "1",
        ["Licensing__Membership__TableRefreshTimeout"] = "00:00:01",
    };

    private ServerProcess _primary = null!;
    private ServerProcess _second = null!;

    public async Task InitializeAsync()
    {
        if (Chromium.Path() is null) return;
        _primary = new ServerProcess("primary", _data, settings: _settings);
        await _primary.StartAsync();
        _second = new ServerProcess("second", _data, _primary.SiloPort, _settings);
        await _second.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_second is not null) await _second.DisposeAsync();
        if (_primary is not null) await _primary.DisposeAsync();
        try
        {
            if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [SkippableChromiumFact]
    public async Task The_pool_view_shows_usage_borrows_and_a_killed_server_live()
    {
        Assert.True(Chromium.Path() is not null, "chromium is missing: CI installs it with .ci/browser.sh (apt-get install -y chromium)");
        var code = $"VIEW-{Guid.NewGuid():N}"[..16];
        await using var services = new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = [_primary.Url];
            o.ApiKey = TestSecurity.AdminKey;
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
        }).Services.BuildServiceProvider();
        var client = services.GetRequiredService<LicensingClient>();
        await client.AddLicenseAsync(TestSecurity.License(code, 10, "Acme CAD"));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium.Path(), Headless = true });
        await using var context = await NewContextAsync(browser);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_primary.Url, "pool/").ToString());
        await Assertions.Expect(page.Locator($"article[data-code='{code}']")).ToBeVisibleAsync(new() { Timeout = (float)Soon.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#servers li[data-server='second']")).ToHaveAttributeAsync("data-status", "up");

        // A checkout of 5 at the primary (5 allocated, threshold 0.8): in use 5 there, and it borrows from the free pool
        // or the other server, which the events table shows with its source.
        var lease = await client.CheckoutAsync(code, 5, "browser-test");
        var primaryRow = page.Locator($"article[data-code='{code}'] .row[data-server='primary']");
        await Assertions.Expect(primaryRow).ToHaveAttributeAsync("data-in-use", "5", new() { Timeout = (float)Soon.TotalMilliseconds });
        var borrow = page.Locator($"#events tbody tr[data-kind='borrow']").Filter(new() { HasText = code });
        await Assertions.Expect(borrow.First).ToBeVisibleAsync(new() { Timeout = (float)Soon.TotalMilliseconds });
        Assert.Matches("leader-server|live-server|free-pool|down-server", await borrow.First.InnerTextAsync());
        await Assertions.Expect(page.Locator("#events tbody tr[data-kind='checkout']").Filter(new() { HasText = code }).First).ToBeVisibleAsync(new() { Timeout = (float)Soon.TotalMilliseconds });

        // Search narrows the list to the code.
        await page.FillAsync("#search", code);
        await Assertions.Expect(page.Locator("article.code")).ToHaveCountAsync(1);

        await Screenshot(page, "pool-view.png");

        // A crash: the page shows the second server down without a reload.
        await _second.KillAsync();
        await Assertions.Expect(page.Locator("#servers li[data-server='second']")).ToHaveAttributeAsync("data-status", "down", new() { Timeout = 60_000 });
        await Screenshot(page, "pool-view-server-down.png");
        Assert.Equal("primary", lease.ServerId);
    }

    /// <summary>Every browser context of these tests: the one place to add HTTP credentials once the admin surfaces need them.</summary>
    /// <summary>A browser of an administrator: it answers the server's Basic challenge with the admin key as password.</summary>
    internal static Task<IBrowserContext> NewContextAsync(IBrowser browser, string? key = null) =>
        browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            HttpCredentials = new HttpCredentials { Username = "admin", Password = key ?? TestSecurity.AdminKey },
        });

    private static async Task Screenshot(IPage page, string name)
    {
        var directory = Path.Combine(RepositoryRoot(), "TestResults", "browser");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name), FullPage = true });
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orleans.Licensing.sln"))) dir = dir.Parent;
        return dir?.FullName ?? AppContext.BaseDirectory;
    }
}

/// <summary>The system chromium (Debian's package, installed by .ci/browser.sh): Playwright downloads no browser.</summary>
internal static class Chromium
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"];

    public static string? Path() =>
        Environment.GetEnvironmentVariable("LICENSING_CHROMIUM") is { Length: > 0 } configured ? configured : Candidates.FirstOrDefault(File.Exists);
}

/// <summary>
/// Runs when chromium is installed. Without it: skipped locally, and a failure under CI=true (CI installs it with
/// .ci/browser.sh, so a missing browser there is a broken pipeline, not a reason to skip).
/// </summary>
public sealed class SkippableChromiumFactAttribute : FactAttribute
{
    public SkippableChromiumFactAttribute()
    {
        if (Chromium.Path() is null && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = "chromium is not installed (apt-get install -y chromium, or bash .ci/browser.sh); CI=true makes this a failure";
        }
    }
}
