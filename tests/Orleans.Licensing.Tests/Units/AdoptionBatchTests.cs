namespace Orleans.Licensing.Tests.Units;

/// <summary>
/// The seats of fail-over adoptions in flight stay bound (neither a checkout's nor the leader's) until the caller
/// settles them: the leader may move a lease's seat here before the adopting request resumes.
/// </summary>
public sealed class AdoptionBatchTests
{
    private static AdoptedLease Adoption(string leaseId, int count) =>
        new(leaseId, "origin", DateTimeOffset.UtcNow.AddMinutes(1), null, "client-" + leaseId, count);

    [Fact]
    public async Task Reported_adoptions_bind_their_seats_through_the_leader_call_and_after_its_answer_until_settled()
    {
        var leader = new TaskCompletionSource<IReadOnlyDictionary<string, string>?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = new List<IReadOnlyList<AdoptedLease>>();
        var bound = new List<int>();
        AdoptionBatch batch = null!;
        batch = new AdoptionBatch(adoptions =>
        {
            batches.Add(adoptions);
            bound.Add(batch.Seats);
            return leader.Task;
        });

        var (a, b) = (Adoption("a", 2), Adoption("b", 3));
        var first = batch.ReportAsync(a);
        var second = batch.ReportAsync(b);
        Assert.Equal(5, batch.Seats);

        leader.SetResult(new Dictionary<string, string> { ["b"] = LicensingErrors.LeaseUnknown });
        Assert.Null(await first);
        Assert.Equal(LicensingErrors.LeaseUnknown, await second);

        // Answered, not settled: the seats are still bound, so nothing can take the seat the leader moved here.
        Assert.Equal(5, batch.Seats);
        batch.Settle(a);
        Assert.Equal(3, batch.Seats);
        batch.Settle(b);
        Assert.Equal(0, batch.Seats);

        // The first call left at once with a; b waited for the next one. Each saw the seats bound so far (what it asks
        // the leader for): a's were still bound when b's call ran.
        Assert.Equal(["a", "b"], batches.Select(l => l.Single().LeaseId));
        Assert.Equal([2, 5], bound);
    }
}
