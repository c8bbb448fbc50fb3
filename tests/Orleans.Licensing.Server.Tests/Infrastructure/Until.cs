namespace Orleans.Licensing.Server.Tests.Infrastructure;

/// <summary>Awaits a condition (never a bare sleep as synchronisation): polls it until it holds or the time is up.</summary>
public static class Until
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition()) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0}s waiting for {what}.");
            await Task.Delay(100);
        }
    }

    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> accept, TimeSpan timeout, string what)
    {
        T last = default!;
        try
        {
            await TrueAsync(async () => accept(last = await read()), timeout, what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} Last value: {last}");
        }

        return last;
    }
}
