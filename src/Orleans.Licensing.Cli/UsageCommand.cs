using System.CommandLine;
using System.Globalization;
using System.Text;
using Orleans.Licensing.Client;

namespace Orleans.Licensing.Cli;

/// <summary><c>licensing usage</c>: the usage report log, and <c>licensing usage report</c>: peak use per code per day.</summary>
public sealed partial class Cli
{
    private Command Usage()
    {
        var code = new Option<string?>("--code") { Description = "One license code (default: all)", Recursive = true };
        var since = new Option<DateTimeOffset?>("--since") { Description = "From this time, e.g. 2026-12-01 or 2026-12-01T08:00:00Z", Recursive = true };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Until this time (excluded)", Recursive = true };
        var csv = new Option<bool>("--csv") { Description = "Print CSV", Recursive = true };
        var kind = new Option<string[]>("--kind") { Description = "Only these kinds: checkout, checkin, expiry, denial, heartbeat, adoption, borrow, give-up, release, ...", AllowMultipleArgumentsPerToken = true };
        var limit = new Option<int?>("--limit") { Description = "At most this many events (server default 1000)" };
        var command = new Command("usage", "Usage events from the servers' durable log (who used what, when)") { code, since, until, csv, kind, limit };
        command.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            var events = await client.GetUsageAsync(r.GetValue(code), Utc(r.GetValue(since)), Utc(r.GetValue(until)), r.GetValue(kind) is { Length: > 0 } k ? k : null, r.GetValue(limit), ct);
            if (r.GetValue(csv))
            {
                output.Write(UsageCsv(events));
                return;
            }

            Print(r, events, () => Table(
                ["TIME", "KIND", "CODE", "SERVER", "CLIENT", "COUNT", "LEASE", "ACTOR", "DETAIL"],
                events.Select(e => new[] { e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), e.Kind, e.Code, e.ServerId, e.ClientId ?? "", e.Count.ToString(CultureInfo.InvariantCulture), e.LeaseId ?? "", e.Actor ?? "", e.Detail ?? "" })));
        }));

        var report = new Command("report", "Peak concurrent seats in use per code per day, denials per day, and any instant above the seats");
        report.SetAction((r, ct) => RunAsync(r, ct, async client =>
        {
            var result = await client.GetUsageReportAsync(r.GetValue(code), Utc(r.GetValue(since)), Utc(r.GetValue(until)), ct);
            if (r.GetValue(csv))
            {
                var s = new StringBuilder("code,day,peak_in_use,peak_at,denials,checkouts\n");
                foreach (var d in result.Days) s.Append(CultureInfo.InvariantCulture, $"{Field(d.Code)},{d.Day:yyyy-MM-dd},{d.PeakInUse},{d.PeakAt?.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ},{d.Denials},{d.Checkouts}\n");
                output.Write(s.ToString());
                return;
            }

            Print(r, result, () =>
            {
                output.WriteLine($"Usage from {result.Since.UtcDateTime:u} until {result.Until.UtcDateTime:u}");
                Table(["CODE", "DAY", "PEAK IN USE", "PEAK AT", "DENIALS", "CHECKOUTS"], result.Days.Select(d => new[]
                {
                    d.Code, d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), d.PeakInUse.ToString(CultureInfo.InvariantCulture),
                    d.PeakAt?.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "", d.Denials.ToString(CultureInfo.InvariantCulture), d.Checkouts.ToString(CultureInfo.InvariantCulture),
                }));
                output.WriteLine(result.OverIssues.Count == 0 ? "No instant above the seats." : $"OVER-ISSUED: {result.OverIssues.Count} instant(s) above the seats:");
                foreach (var o in result.OverIssues) output.WriteLine($"  {o.Code} at {o.At.UtcDateTime:O}: {o.InUse} in use, {o.Seats} seats");
            });
        }));
        command.Subcommands.Add(report);
        return command;
    }

    private static DateTimeOffset? Utc(DateTimeOffset? time) => time?.ToUniversalTime();

    private static string UsageCsv(IEnumerable<UsageEventInfo> events)
    {
        var s = new StringBuilder("at,kind,code,server,client,count,lease,detail,actor,owner_user,owner_host\n");
        foreach (var e in events) s.Append(CultureInfo.InvariantCulture, $"{e.At.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ},{e.Kind},{Field(e.Code)},{Field(e.ServerId)},{Field(e.ClientId)},{e.Count},{Field(e.LeaseId)},{Field(e.Detail)},{Field(e.Actor)},{Field(e.OwnerUser)},{Field(e.OwnerHost)}\n");
        return s.ToString();
    }

    private static string Field(string? value) => Orleans.Licensing.Grants.CsvCell.Of(value);
}
