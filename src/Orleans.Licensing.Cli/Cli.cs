using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Cli;

/// <summary>The <c>licensing</c> admin tool: commands over the license servers' REST API v1.</summary>
public sealed partial class Cli(TextWriter output, TextWriter error)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Option<string[]> _servers = new("--server", "-s")
    {
        Description = "License server URL(s); the first that answers serves the command",
        Recursive = true,
        AllowMultipleArgumentsPerToken = true,
        DefaultValueFactory = _ => ["http://localhost:5000"],
    };

    private readonly Option<bool> _json = new("--json") { Description = "Print the server's answer as JSON", Recursive = true };

    private readonly Option<string?> _keyFile = new("--key-file")
    {
        Description = $"File holding the API key (default: ${LicensingClientOptions.EnvironmentVariable}, else ${KeyFileVariable}, else {LocalAdminKey} if it exists)",
        Recursive = true,
    };

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) => new Cli(output, error).InvokeAsync(args);

    private Task<int> InvokeAsync(string[] args) =>
        BuildRoot().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });

    private RootCommand BuildRoot()
    {
        var root = new RootCommand("Administer and try an Orleans.Licensing pool of license servers.");
        root.Options.Add(_servers);
        root.Options.Add(_json);
        root.Options.Add(_keyFile);
        root.Subcommands.Add(Keys());
        root.Subcommands.Add(Sign());
        root.Subcommands.Add(AddCode());
        root.Subcommands.Add(AddAllocations());
        root.Subcommands.Add(SetDistribution());
        root.Subcommands.Add(Status());
        root.Subcommands.Add(Servers());
        root.Subcommands.Add(Pool());
        root.Subcommands.Add(Checkout());
        root.Subcommands.Add(Heartbeat());
        root.Subcommands.Add(Checkin());
        root.Subcommands.Add(Borrow());
        root.Subcommands.Add(Return());
        root.Subcommands.Add(BorrowPolicy());
        root.Subcommands.Add(Linger());
        root.Subcommands.Add(Usage());
        root.Subcommands.Add(Leases());
        root.Subcommands.Add(Release());
        return root;
    }

    private Command AddCode()
    {
        var grant = GrantOption();
        var command = new Command("add-code", "Add a license code from a vendor-signed grant (licensing sign code); its seats are split evenly among the servers") { grant };
        command.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            var view = await client.AddLicenseAsync(new AddLicenseRequest(ReadGrant(r.GetValue(grant)!)), ct);
            Print(r, view, () => WriteLicense(view));
        }));
        return command;
    }

    private Command AddAllocations()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var grant = GrantOption();
        var command = new Command("add-allocations", "Add allocations to a license code's free pool from a vendor-signed grant (licensing sign allocations)") { code, grant };
        command.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            var view = await client.AddAllocationsAsync(r.GetValue(code)!, ReadGrant(r.GetValue(grant)!), ct);
            Print(r, view, () => WriteLicense(view));
        }));
        return command;
    }

    private Command SetDistribution()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var even = new Option<bool>("--even") { Description = "Split the allocations evenly among the servers" };
        var shares = new Option<string[]>("--share") { Description = "Explicit share: SERVER=COUNT (repeat)", AllowMultipleArgumentsPerToken = true };
        var weights = new Option<string[]>("--weight") { Description = "Weighted share: SERVER=WEIGHT (repeat)", AllowMultipleArgumentsPerToken = true };
        var threshold = new Option<double?>("--threshold") { Description = "Default borrowing threshold, 0..1" };
        var thresholds = new Option<string[]>("--server-threshold") { Description = "Borrowing threshold of one server: SERVER=0.9 (repeat)", AllowMultipleArgumentsPerToken = true };
        var reserve = new Option<int>("--reserve") { Description = "Allocations kept in the free pool" };
        var command = new Command("set-distribution", "Change the distribution criteria of a license code")
        {
            code, even, shares, weights, threshold, thresholds, reserve,
        };
        command.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            var criteria = new DistributionRequest(
                Pairs(r.GetValue(shares), int.Parse),
                Pairs(r.GetValue(weights), int.Parse),
                r.GetValue(even),
                r.GetValue(threshold),
                Pairs(r.GetValue(thresholds), s => double.Parse(s, CultureInfo.InvariantCulture)),
                r.GetValue(reserve));
            var view = await client.SetDistributionAsync(r.GetValue(code)!, criteria, ct);
            Print(r, view, () => WriteLicense(view));
        }));
        return command;
    }

    private Command Status()
    {
        var code = new Argument<string?>("code") { Description = "One license code (default: all)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Servers, shares, in use, free pool and leader of each license code") { code };
        command.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            if (r.GetValue(code) is { } one)
            {
                var view = await client.GetLicenseAsync(one, ct);
                Print(r, view, () => WriteLicense(view));
                return;
            }

            var all = await client.GetLicensesAsync(ct);
            Print(r, all, () =>
            {
                if (all.Count == 0) output.WriteLine("No license codes yet (sign one with: licensing sign code CODE --product NAME --seats N --out FILE; add it with: licensing add-code --grant FILE).");
                foreach (var view in all) WriteLicense(view);
            });
        }));
        return command;
    }

    private Command Servers()
    {
        var command = new Command("servers", "The pool's license servers and their status");
        command.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            var servers = await client.GetServersAsync(ct);
            Print(r, servers, () => Table(["SERVER", "STATUS", "ADDRESS", ""], servers.Select(s => new[] { s.ServerId, s.Status, s.Address, s.Self ? "(answered)" : "" })));
        }));
        return command;
    }

    private Command Pool()
    {
        var command = new Command("pool", "The pool's id (grants name it: licensing sign ... --pool-id), which vendor keys it trusts, and its trial seats");
        command.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            var pool = await client.GetPoolAsync(ct);
            Print(r, pool, () => output.WriteLine($"pool {pool.PoolId}  trust: {pool.Trust}  trial seats {pool.TrialSeats} of {pool.TrialCap}"));
        }));
        return command;
    }

    /// <summary>Runs one command; the exit code says what happened (see <see cref="ExitCodes"/>).</summary>
    private async Task<int> RunAsync(ParseResult r, CancellationToken ct, Func<LicensingClient, Task> body)
    {
        Uri[] servers;
        try
        {
            servers = [.. r.GetValue(_servers)!.Select(s => new Uri(s, UriKind.Absolute))];
        }
        catch (UriFormatException e)
        {
            error.WriteLine($"--server: {e.Message}");
            return ExitCodes.Usage;
        }

        string? apiKey;
        try
        {
            apiKey = ApiKey(r);
        }
        catch (IOException e)
        {
            error.WriteLine($"--key-file: {e.Message}");
            return ExitCodes.Usage;
        }

        await using var services = new ServiceCollection()
            .AddLogging()
            .AddLicensingClient(o =>
            {
                o.Servers = servers;
                o.ApiKey = apiKey;
                // An admin tool, not protected software: a cold server's first write (a new code's grains and storage)
                // may take seconds, and a one-server pool has no next server to move on to.
                o.AttemptTimeout = TimeSpan.FromSeconds(15);
            }).Services
            .BuildServiceProvider();
        try
        {
            await body(services.GetRequiredService<LicensingClient>());
            return ExitCodes.Ok;
        }
        catch (LicensingProblemException e)
        {
            if (r.GetValue(_json)) output.WriteLine(JsonSerializer.Serialize(e.Problem, Json));
            error.WriteLine($"{e.Error}: {e.Problem.Detail ?? e.Problem.Title}");
            return ExitCodes.ForStatus(e.Status);
        }
        catch (LicensingUnavailableException e)
        {
            error.WriteLine(e.Message);
            return ExitCodes.Unavailable;
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine(e.Message);
            return ExitCodes.Usage;
        }
    }

    private void Print<T>(ParseResult r, T value, Action human)
    {
        if (r.GetValue(_json)) output.WriteLine(JsonSerializer.Serialize(value, Json));
        else human();
    }

    private void WriteLicense(LicenseInfo v)
    {
        var expires = v.ExpiresAt is { } at ? $"  expires {at:u}" : "";
        var trial = v.Trial ? "  TRIAL (seats of a trial key)" : "";
        output.WriteLine($"{v.Code}  product {v.Product}  seats {v.Seats}  free pool {v.FreePool}  version {v.Version}  leader {v.Leader}{expires}{trial}");
        Table(
            ["  SERVER", "STATUS", "ALLOCATED", "SHARE", "IN USE", "THRESHOLD", "HELD"],
            v.Servers.Select(s => new[]
            {
                "  " + s.ServerId, s.Status, s.Allocated.ToString(CultureInfo.InvariantCulture), s.BaseShare.ToString(CultureInfo.InvariantCulture),
                s.InUse.ToString(CultureInfo.InvariantCulture), s.Threshold.ToString("0.00", CultureInfo.InvariantCulture), s.Held.ToString(CultureInfo.InvariantCulture),
            }));
        WriteOfflineBorrow(v);
    }

    private void WriteLease(LeaseInfo l) =>
        output.WriteLine($"Lease {l.LeaseId}  code {l.Code}  count {l.Count}  server {l.ServerId}  client {l.ClientId}  expires {l.ExpiresAt:u}{In(l.TtlSeconds)}  renew after {l.RenewAfter:u}{In(l.RenewAfterSeconds)}");

    // The server's durations: what a script should wait by, since its clock may not agree with the server's.
    private static string In(double? seconds) => seconds is { } s ? string.Create(CultureInfo.InvariantCulture, $" (in {s:0.###} s)") : "";

    private void Table(string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(row => row[i].Length)).ToArray();
        foreach (var row in all)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
        }
    }

    private static Dictionary<string, T>? Pairs<T>(string[]? pairs, Func<string, T> parse)
    {
        if (pairs is not { Length: > 0 }) return null;
        var result = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new FormatException($"'{pair}' is not SERVER=VALUE.");
            result[pair[..eq]] = parse(pair[(eq + 1)..]);
        }

        return result;
    }
}
