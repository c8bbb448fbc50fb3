namespace Orleans.Licensing.Server.Tests.Infrastructure.Faults;

/// <summary>The client-side invariants over a finished ledger.</summary>
public static class LedgerChecks
{
    public sealed record Peak(int Seats, TimeSpan At, IReadOnlyList<LeaseRecord> Held);

    /// <summary>
    /// (a) The most seats held at one instant: a sweep over all interval endpoints (an end at the same instant as a
    /// start is applied first, intervals being half-open).
    /// </summary>
    public static Peak MaxHeld(IEnumerable<LeaseRecord> leases)
    {
        var held = leases.Where(l => l.End > l.Start).ToList();
        var events = held.SelectMany(l => new[] { (At: l.Start, Delta: l.Count), (At: l.End, Delta: -l.Count) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta).ToList();
        int sum = 0, max = 0;
        var at = TimeSpan.Zero;
        foreach (var e in events)
        {
            sum += e.Delta;
            if (sum > max) (max, at) = (sum, e.At);
        }

        return new Peak(max, at, [.. held.Where(l => l.Start <= at && at < l.End).OrderBy(l => l.Start)]);
    }

    /// <summary>
    /// (b) Updates (renewals and fail-over updates) sent while the lease was still held by what the client had been
    /// told, and refused: a client that heartbeats in time must at worst be told to retry.
    /// </summary>
    public static IReadOnlyList<(WireAnswer Answer, LeaseRecord Lease)> RefusedInTime(LeaseLedger ledger) =>
        [.. ledger.Answers
            .Where(a => a.Method == "PUT" && a.Outcome == WireOutcome.Refused && a.LeaseId is not null)
            .Select(a => (Answer: a, Lease: ledger.Find(a.LeaseId!)))
            .Where(x => x.Lease is not null && x.Answer.SentAt < x.Lease.HeldUntilAsOf(x.Answer.SentAt))
            .Select(x => (x.Answer, x.Lease!))
            .OrderBy(x => x.Answer.SentAt)];

    /// <summary>Counts of answers by kind and answer, e.g. "fail-over update 409 no-allocation=17".</summary>
    public static string Histogram(IEnumerable<WireAnswer> answers) =>
        string.Join(", ", answers.GroupBy(a => $"{a.Kind} {a.Answer}").OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}"));
}
