using System.CommandLine;
using System.Xml;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Cli;

/// <summary>Offline borrow commands: borrow, return, borrow-policy (docs/admin/offline-borrow.md).</summary>
public sealed partial class Cli
{
    private Command Borrow()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var count = new Option<int>("--count") { Description = "Seats to borrow", DefaultValueFactory = _ => 1 };
        var duration = new Option<string>("--for") { Description = "How long, ISO 8601 (P3D, PT8H); within the code's borrow policy", Required = true };
        var client = ClientIdOption();
        var command = new Command("borrow", "Borrow seats offline: a lease held until its end without heartbeats (FlexNet lmborrow, RLM roam)") { code, count, duration, client };
        command.SetAction((r, ct) => RunAsync(r, ct, async c =>
        {
            var lease = await c.BorrowAsync(r.GetValue(code)!, r.GetValue(count), ParseDuration(r.GetValue(duration)), r.GetValue(client), ct);
            Print(r, lease, () => output.WriteLine($"Borrowed lease {lease.LeaseId}  code {lease.Code}  count {lease.Count}  server {lease.ServerId}  client {lease.ClientId}  until {lease.ExpiresAt:u}"));
        }));
        return command;
    }

    private Command Return()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var lease = new Argument<string>("lease-id") { Description = "The borrowed lease's id" };
        var serverId = new Option<string?>("--server-id") { Description = "The server that granted it (default: the one that answers)" };
        var client = ClientIdOption();
        var command = new Command("return", "Return an offline borrow early, at any server (FlexNet lmborrow -return)") { code, lease, serverId, client };
        command.SetAction((r, ct) => RunAsync(r, ct, async c =>
        {
            await c.CheckinAsync(r.GetValue(code)!, r.GetValue(lease)!, r.GetValue(serverId), r.GetValue(client), ct);
            Print(r, new { returned = r.GetValue(lease) }, () => output.WriteLine($"Returned {r.GetValue(lease)}."));
        }));
        return command;
    }

    private Command BorrowPolicy()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var maxCount = new Option<int>("--max-count") { Description = "The most seats borrowed at once, pool-wide (0: borrowing off)", Required = true };
        var maxDuration = new Option<string>("--max-duration") { Description = "The longest borrow, ISO 8601 (P7D), at most P90D", Required = true };
        var command = new Command("borrow-policy", "Set a license code's offline borrow policy (admin)") { code, maxCount, maxDuration };
        command.SetAction((r, ct) => RunAsync(r, ct, async c =>
        {
            var view = await c.SetOfflineBorrowPolicyAsync(r.GetValue(code)!, r.GetValue(maxCount), ParseDuration(r.GetValue(maxDuration)), ct);
            Print(r, view, () => WriteLicense(view));
        }));
        return command;
    }

    private Command Linger()
    {
        var code = new Argument<string>("code") { Description = "The license code" };
        var linger = new Option<string>("--for") { Description = "How long a checked-in seat stays taken, ISO 8601 (PT5M; PT0S: off), at most PT24H", Required = true };
        var command = new Command("linger", "Set a license code's linger (admin; FlexNet LINGER, RLM min_checkout)") { code, linger };
        command.SetAction((r, ct) => RunAsync(r, ct, async c =>
        {
            var view = await c.SetLingerAsync(r.GetValue(code)!, XmlConvert.ToTimeSpan(r.GetValue(linger)!.Trim()), ct);
            Print(r, view, () => WriteLicense(view));
        }));
        return command;
    }

    /// <summary>A duration as ISO 8601; bad text is a usage error (FormatException), caught by RunAsync.</summary>
    private static TimeSpan ParseDuration(string? text) =>
        XmlConvert.ToTimeSpan(text?.Trim() is { Length: > 0 } t ? t : throw new FormatException("A duration such as P3D or PT8H is required."));

    private void WriteOfflineBorrow(LicenseInfo v)
    {
        if (v.OfflineBorrow is { } b)
            output.WriteLine($"  offline borrow: at most {b.MaxCount} seats, each at most {b.MaxDuration} (policy version {b.Version}); borrowed now {b.Borrowed}; linger {b.Linger ?? "PT0S"}");
    }
}
