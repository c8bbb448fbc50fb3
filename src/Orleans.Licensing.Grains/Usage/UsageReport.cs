namespace Orleans.Licensing.Usage;

/// <summary>One code's day: the most seats in use at any instant (and when), and the denials.</summary>
public sealed record UsageDay(string Code, DateOnly Day, int PeakInUse, DateTimeOffset? PeakAt, int Denials, int Checkouts);

/// <summary>An instant where the log counts more seats in use than the code had: the start of each such excursion.</summary>
public sealed record OverIssue(string Code, DateTimeOffset At, int InUse, int Seats);

public sealed record UsageReportResult(IReadOnlyList<UsageDay> Days, IReadOnlyList<OverIssue> OverIssues);

/// <summary>
/// Recomputes seats in use per code over time from the usage log: a lease counts from its checkout (or the first
/// adoption or heartbeat the log shows of it) until the check-in or expiry at the server holding it. Per lease, so an
/// adoption moves a lease (it is not counted twice) and a late expiry at the server it moved away from changes nothing.
/// </summary>
public static class UsageReport
{
    /// <summary>
    /// How far before <c>since</c> the report reads: a lease held at <c>since</c> has been checked out, adopted or
    /// renewed within one lease lifetime before it (a client renews every third of it), and the log holds a row of it
    /// at most <paramref name="heartbeatSample"/> before that renewal (<see cref="HeartbeatSampler"/>). Two lifetimes
    /// for slack.
    /// </summary>
    public static TimeSpan Lookback(TimeSpan leaseTtl, TimeSpan heartbeatSample) => leaseTtl * 2 + (heartbeatSample > TimeSpan.Zero ? heartbeatSample : TimeSpan.Zero);

    /// <param name="events">In time order: the lease changes, denials and allocations-added of the codes, from <c>since</c> − lookback.</param>
    /// <param name="seatsNow">The seats each code has now; earlier seats are these minus the allocations added since.</param>
    public static UsageReportResult Compute(IReadOnlyList<UsageEvent> events, DateTimeOffset since, DateTimeOffset until, Func<string, int?> seatsNow)
    {
        var days = new List<UsageDay>();
        var over = new List<OverIssue>();
        foreach (var group in events.GroupBy(e => e.Code, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            ComputeCode(group.Key, [.. group], since, until, seatsNow(group.Key), days, over);
        }

        return new UsageReportResult(days, over);
    }

    private static void ComputeCode(string code, List<UsageEvent> events, DateTimeOffset since, DateTimeOffset until, int? seatsNow, List<UsageDay> days, List<OverIssue> over)
    {
        var leases = new Dictionary<string, (string Server, int Count)>(StringComparer.Ordinal);
        var inUse = 0;
        var addedLater = events.Where(e => e.Kind == UsageKinds.AllocationsAdded).Sum(e => e.Count);
        var exceeding = false;
        DateOnly? day = null;
        int peak = 0, denials = 0, checkouts = 0;
        DateTimeOffset? peakAt = null;

        void Close()
        {
            if (day is { } d && (peak > 0 || denials > 0 || checkouts > 0)) days.Add(new UsageDay(code, d, peak, peakAt, denials, checkouts));
        }

        void Advance(DateTimeOffset at)
        {
            var today = DateOnly.FromDateTime(at.UtcDateTime);
            if (day == today) return;
            Close();

            // Days without an event between two with events: the leases held carry over.
            if (day is { } previous && inUse > 0)
            {
                for (var d = previous.AddDays(1); d < today; d = d.AddDays(1)) days.Add(new UsageDay(code, d, inUse, d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), 0, 0));
            }

            (day, peak, peakAt, denials, checkouts) = (today, inUse, inUse > 0 ? new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc)) : null, 0, 0);
        }

        var started = false;
        foreach (var e in events)
        {
            if (e.At >= until) break;
            if (!started && e.At >= since)
            {
                started = true;
                Advance(since);
            }

            if (e.Kind == UsageKinds.AllocationsAdded) addedLater -= e.Count;
            if (started) Advance(e.At);
            switch (e.Kind)
            {
                case UsageKinds.Checkout or UsageKinds.Adoption or UsageKinds.Heartbeat when e.LeaseId is { } id:
                    if (leases.TryGetValue(id, out var held)) leases[id] = (e.ServerId, held.Count);
                    else
                    {
                        leases[id] = (e.ServerId, e.Count);
                        inUse += e.Count;
                    }

                    if (started && e.Kind == UsageKinds.Checkout) checkouts++;
                    break;
                case UsageKinds.Checkin or UsageKinds.Expiry or UsageKinds.Release when e.LeaseId is { } id:
                    if (leases.TryGetValue(id, out var holder) && holder.Server == e.ServerId)
                    {
                        leases.Remove(id);
                        inUse -= holder.Count;
                    }

                    break;
                case UsageKinds.Denial when started:
                    denials++;
                    break;
            }

            if (!started) continue;
            if (inUse > peak || (inUse > 0 && peakAt is null))
            {
                (peak, peakAt) = (inUse, e.At);
            }

            var seats = seatsNow - addedLater;
            if (seats is { } s && inUse > s)
            {
                if (!exceeding) over.Add(new OverIssue(code, e.At, inUse, s));
                exceeding = true;
            }
            else
            {
                exceeding = false;
            }
        }

        if (!started && since < until) Advance(since);
        Close();
    }
}
