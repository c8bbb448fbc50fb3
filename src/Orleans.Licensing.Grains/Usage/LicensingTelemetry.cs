using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Orleans.Licensing.Usage;

/// <summary>
/// The pool's instruments (Meter and ActivitySource "Orleans.Licensing"), named by OpenTelemetry conventions. Every
/// name is listed in docs/observability.md. Static: one set per process, tagged with the server id, so that several
/// silos of one test process stay apart.
/// </summary>
public static class LicensingTelemetry
{
    public const string Name = "Orleans.Licensing";

    public static readonly Meter Meter = new(Name);
    public static readonly ActivitySource Source = new(Name);

    public static readonly Counter<long> Checkouts = Meter.CreateCounter<long>("licensing.checkouts", "{lease}", "Leases granted");
    public static readonly Counter<long> Denials = Meter.CreateCounter<long>("licensing.denials", "{request}", "Checkouts denied, by reason");
    public static readonly Counter<long> Checkins = Meter.CreateCounter<long>("licensing.checkins", "{lease}", "Leases checked in");
    public static readonly Counter<long> Expiries = Meter.CreateCounter<long>("licensing.expiries", "{lease}", "Leases that expired without a heartbeat");
    public static readonly Counter<long> Heartbeats = Meter.CreateCounter<long>("licensing.heartbeats", "{heartbeat}", "Leases renewed");
    public static readonly Counter<long> Adoptions = Meter.CreateCounter<long>("licensing.adoptions", "{lease}", "Leases adopted in fail-over mode");
    public static readonly Counter<long> Borrows = Meter.CreateCounter<long>("licensing.borrows", "{seat}", "Allocations borrowed, by source");
    public static readonly Counter<long> GiveUps = Meter.CreateCounter<long>("licensing.give_ups", "{seat}", "Allocations given up to the leader");
    public static readonly Counter<long> AdminChanges = Meter.CreateCounter<long>("licensing.admin.changes", "{change}", "Codes added, allocations added, distributions changed");
    public static readonly Counter<long> LeaderCalls = Meter.CreateCounter<long>("licensing.leader.calls", "{call}", "Calls this server made to a leader (IPoolGrain), by method");
    public static readonly Histogram<double> CheckoutDuration = Meter.CreateHistogram<double>("licensing.checkout.duration", "s", "Checkout latency inside the server grain, durable write included");
    public static readonly Histogram<double> StorageWriteDuration = Meter.CreateHistogram<double>("licensing.storage.write.duration", "s", "Latency of one commit of a server grain (journal write)");
    public static readonly Counter<long> UsageLogDropped = Meter.CreateCounter<long>("licensing.usage_log.dropped", "{event}", "Usage events dropped: the buffer was full");
    public static readonly Histogram<double> UsageLogWriteDuration = Meter.CreateHistogram<double>("licensing.usage_log.write.duration", "s", "Latency of one batch write of the usage log");
    public static readonly Histogram<long> UsageLogBatchSize = Meter.CreateHistogram<long>("licensing.usage_log.batch.size", "{event}", "Events per batch write of the usage log");

    /// <summary>Counts one usage event in its instrument.</summary>
    public static void Count(UsageEvent e)
    {
        var tags = new TagList { { "licensing.code", e.Code }, { "licensing.server", e.ServerId } };
        switch (e.Kind)
        {
            case UsageKinds.Checkout: Checkouts.Add(1, tags); break;
            case UsageKinds.Checkin: Checkins.Add(1, tags); break;
            case UsageKinds.Expiry: Expiries.Add(1, tags); break;
            case UsageKinds.Heartbeat: Heartbeats.Add(1, tags); break;
            case UsageKinds.Adoption: Adoptions.Add(1, tags); break;
            case UsageKinds.GiveUp: GiveUps.Add(e.Count, tags); break;
            case UsageKinds.Denial:
                tags.Add("licensing.reason", e.Detail ?? "unknown");
                Denials.Add(1, tags);
                break;
            case UsageKinds.Borrow:
                tags.Add("licensing.source", e.Detail is { } d ? d.Split(':', ' ')[0] : "unknown");
                Borrows.Add(e.Count, tags);
                break;
            default:
                tags.Add("licensing.change", e.Kind);
                AdminChanges.Add(1, tags);
                break;
        }
    }

    /// <summary>A checkout span plus its latency; dispose when the checkout is answered.</summary>
    public static Timed Checkout(string code, string serverId) => new(Source.StartActivity("licensing.checkout")?.SetTag("licensing.code", code), CheckoutDuration, serverId);

    /// <summary>A borrow span (child of the checkout span when a checkout borrows).</summary>
    public static Activity? Borrow(string code, int count) =>
        Source.StartActivity("licensing.borrow")?.SetTag("licensing.code", code).SetTag("licensing.count", count);

    /// <summary>A storage-write span plus its latency.</summary>
    public static Timed StorageWrite(string code, string serverId) => new(Source.StartActivity("licensing.storage.write")?.SetTag("licensing.code", code), StorageWriteDuration, serverId);

    /// <summary>Histograms are tagged by server only: a tag per license code would make one series per code and bucket.</summary>
    public readonly struct Timed(Activity? activity, Histogram<double> histogram, string serverId) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();

        public void Dispose()
        {
            histogram.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, new KeyValuePair<string, object?>("licensing.server", serverId));
            activity?.SetTag("licensing.server", serverId).Dispose();
        }
    }
}
