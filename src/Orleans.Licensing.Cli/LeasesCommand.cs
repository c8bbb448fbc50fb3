using System.CommandLine;
using System.Globalization;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Cli;

/// <summary>
/// The lease commands: <c>checkout</c>, <c>heartbeat</c>, <c>checkin</c> (to try a pool by hand), and
/// <c>licensing leases CODE</c>: who holds what (FlexNet lmstat, RLM rlmstat); <c>licensing release CODE LEASE</c>:
/// release a seat by hand (lmremove, rlmremove), audited in the usage log with the credential's id.
/// </summary>
public sealed partial class Cli
{
    private Command Checkout()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var count = new Option<int>("--count") { Description = "Allocations to check out", DefaultValueFactory = _ => 1 };
        var client = ClientIdOption();
        var (user, host, display) = OwnerOptions();
        var command = new Command("checkout", "Check out allocations (a lease; it expires unless renewed with heartbeat)") { code, count, client, user, host, display };
        command.SetAction((r, ct) => RunAsync(r, ct, async c =>
        {
            var owner = new LeaseOwnerInfo(r.GetValue(user), r.GetValue(host), r.GetValue(display));
            var lease = await c.CheckoutAsync(r.GetValue(code)!, r.GetValue(count), r.GetValue(client), owner, ct);
            Print(r, lease, () => WriteLease(lease));
        }));
        return command;
    }

    private Command Heartbeat()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var lease = new Argument<string>("lease-id") { Description = "The lease id" };
        var serverId = new Option<string>("--server-id") { Description = "The server that holds the lease (another one adopts it: fail-over mode)", Required = true };
        var count = new Option<int>("--count") { Description = "The lease's count", DefaultValueFactory = _ => 1 };
        var client = ClientIdOption();
        var command = new Command("heartbeat", "Renew a lease") { code, lease, serverId, count, client };
        command.SetAction((r, ct) => RunAsync(r, ct, async c =>
        {
            var renewed = await c.HeartbeatAsync(r.GetValue(code)!, r.GetValue(lease)!, r.GetValue(count), r.GetValue(serverId)!, r.GetValue(client), ct);
            Print(r, renewed, () => WriteLease(renewed));
        }));
        return command;
    }

    private Command Checkin()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var lease = new Argument<string>("lease-id") { Description = "The lease id" };
        var serverId = new Option<string?>("--server-id") { Description = "The server that holds the lease (default: the one that answers)" };
        var client = ClientIdOption();
        var command = new Command("checkin", "Check a lease in") { code, lease, serverId, client };
        command.SetAction((r, ct) => RunAsync(r, ct, async c =>
        {
            await c.CheckinAsync(r.GetValue(code)!, r.GetValue(lease)!, r.GetValue(serverId), r.GetValue(client), ct);
            Print(r, new { checkedIn = r.GetValue(lease) }, () => output.WriteLine($"Checked in {r.GetValue(lease)}."));
        }));
        return command;
    }

    private static Option<string> ClientIdOption() =>
        new("--client-id") { Description = "Who holds the lease", DefaultValueFactory = _ => "licensing-cli" };

    private Command Leases()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var command = new Command("leases", "Who holds what: every lease of a license code with its client, user@host, server and state (lmstat)") { code };
        command.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            var leases = await client.GetLeasesAsync(r.GetValue(code)!, ct);
            Print(r, leases, () =>
            {
                if (leases.Count == 0)
                {
                    output.WriteLine($"No leases of {r.GetValue(code)}.");
                    return;
                }

                Table(["LEASE", "CLIENT", "USER@HOST", "COUNT", "SERVER", "SINCE", "EXPIRES", "STATE"], leases.Select(l => new[]
                {
                    l.LeaseId, l.ClientId ?? "", UserAtHost(l), l.Count.ToString(CultureInfo.InvariantCulture), l.ServerId,
                    l.CheckedOutAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "", l.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), l.Borrowed ? l.State + " (offline borrow)" : l.State,
                }));
                output.WriteLine($"{leases.Count} lease(s), {leases.Sum(l => l.Count)} seat(s); times are UTC.");
            });
        }));
        return command;
    }

    private Command Release()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var lease = new Argument<string>("lease-id") { Description = "The lease id (licensing leases shows it)" };
        var reason = new Option<string?>("--reason") { Description = "Why, for the audit log (licensing usage --kind release)" };
        var command = new Command("release", "Release a lease by hand (lmremove): its seat returns to its server, its client must check out again (admin)") { code, lease, reason };
        command.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            var released = await client.ReleaseAsync(r.GetValue(code)!, r.GetValue(lease)!, r.GetValue(reason), ct);
            Print(r, released, () => output.WriteLine(
                $"Released {released.LeaseId} ({released.Count} seat(s) of client {released.ClientId} {UserAtHost(released)}) at {released.ServerId}."));
        }));
        return command;
    }

    private static (Option<string?> User, Option<string?> Host, Option<string?> DisplayName) OwnerOptions() => (
        new Option<string?>("--user") { Description = "Who uses the seats, as administrators see it (default: this user)", DefaultValueFactory = _ => Environment.UserName },
        new Option<string?>("--host") { Description = "The machine the seats are used on (default: this machine)", DefaultValueFactory = _ => Environment.MachineName },
        new Option<string?>("--display-name") { Description = "A name administrators recognise (optional)" });

    private static string UserAtHost(LeaseSummaryInfo l) => (l.User, l.Host) switch
    {
        (null, null) => "",
        (var u, null) => u!,
        (null, var h) => "@" + h,
        var (u, h) => $"{u}@{h}",
    };
}
