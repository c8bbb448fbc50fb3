using System.Diagnostics;

namespace Orleans.Licensing.Tests.Infrastructure;

public static class WaitAsync
{
    /// <summary>Awaits a condition (polled), failing with <paramref name="what"/> when it does not hold in time.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? describe = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (clock.Elapsed < limit)
            {
                // The cluster is settling (a silo died, a grain re-activates): ask again.
                last = e;
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds:0}s waiting for: {what}. {describe?.Invoke()} Last error: {last?.Message}", last);
            }

            await Task.Delay(clock.Elapsed < TimeSpan.FromSeconds(1) ? 5 : 50);
        }
    }
}
