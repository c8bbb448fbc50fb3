using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Orleans.Licensing.Tests.Faults;

/// <summary>
/// The store fails while the server serves: callers hear a stable "unavailable" (HTTP 503 at the REST layer), never a
/// grant that was not written, and once the store is back the server reloads and serves with nothing lost.
/// </summary>
[Collection(FailingStoreCollection.Name)]
public sealed class StoreFailureTests(FailingStoreFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_failed_write_answers_unavailable_grants_nothing_and_the_server_reloads_once_the_store_is_back()
    {
        var code = PoolCluster.NewCode();
        var serverId = _pool.ServerIds[0];
        await _pool.AddCodeAsync(code, 5, serverId);
        var server = _pool.Server(serverId, code);
        Assert.True((await server.Checkout(new CheckoutRequest("kept", "client-1", 2))).Granted);

        fixture.Storage.FailWrites = true;
        var failedBefore = fixture.Storage.FailedWrites;
        try
        {
            var failed = await Assert.ThrowsAsync<LicensingException>(() => server.Checkout(new CheckoutRequest("lost", "client-2", 1)));
            Assert.Equal(LicensingErrors.Unavailable, failed.Error);
            Assert.Contains("license store", failed.Message, StringComparison.Ordinal);

            // The store's own text (a host name, a SQL error, a file path) is for the server's log, not for callers.
            Assert.DoesNotContain("injected", failed.Message, StringComparison.Ordinal);
            Assert.True(fixture.Storage.FailedWrites > failedBefore);

            // Until the store is back, every change fails the same way (a reloaded activation cannot write either).
            var again = await Assert.ThrowsAsync<LicensingException>(() => server.Checkin("kept", "client-1"));
            Assert.Equal(LicensingErrors.Unavailable, again.Error);
            Assert.DoesNotContain("injected", again.Message, StringComparison.Ordinal);
        }
        finally
        {
            fixture.Storage.FailWrites = false;
        }

        // The store is back: the server serves from what was written. The unacknowledged checkout is not there; a retry
        // of it (same lease id) is granted once, and the acknowledged lease is still held.
        var view = await server.GetView();
        Assert.Equal(["kept"], view.Leases.Select(l => l.LeaseId));
        Assert.Equal(2, view.InUse);
        var retried = await server.Checkout(new CheckoutRequest("lost", "client-2", 1));
        Assert.True(retried.Granted);
        Assert.Equal(["kept", "lost"], (await server.GetView()).Leases.Select(l => l.LeaseId).Order(StringComparer.Ordinal));

        var storage = _pool.Service<IServiceProvider>(serverId).GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        var options = _pool.Service<IOptions<LicensingOptions>>(serverId).Value;
        var (_, stored, _) = await ServerJournal.LoadAsync(storage, server.GetGrainId(), options);
        Assert.Equal(["kept", "lost"], stored.All.Select(l => l.LeaseId).Order(StringComparer.Ordinal));
        Assert.Equal(3, stored.InUse);
        var (_, views) = await Invariants.CheckAsync(_pool, code);
        Assert.Equal(3, views.Sum(v => v.InUse));
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_checkout_retried_while_the_write_that_carries_it_fails_is_not_granted_from_memory()
    {
        var code = PoolCluster.NewCode();
        var serverId = _pool.ServerIds[0];
        await _pool.AddCodeAsync(code, 5, serverId);
        var server = _pool.Server(serverId, code);
        var grain = server.GetGrainId();
        var armed = 1;
        fixture.Storage.Reset();
        fixture.Storage.FailDelay = TimeSpan.FromMilliseconds(500);
        fixture.Storage.FailWritesOf = (name, id) => id == grain && name.StartsWith("journal-", StringComparison.Ordinal) && Interlocked.Exchange(ref armed, 0) == 1;
        try
        {
            // The first checkout's write hangs, then fails; the retry (same lease id) arrives while it hangs.
            var first = server.Checkout(new CheckoutRequest("retried", "client-1", 1));
            await fixture.Storage.FailingWriteStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var retry = server.Checkout(new CheckoutRequest("retried", "client-1", 1));
            var failed = await Assert.ThrowsAsync<LicensingException>(() => first);
            Assert.Equal(LicensingErrors.Unavailable, failed.Error);
            var retried = await Record.ExceptionAsync(() => retry);
            Assert.True(retried is LicensingException { Error: LicensingErrors.Unavailable }, $"the retry was answered {(retried is null ? "with a grant" : retried.Message)}");
        }
        finally
        {
            fixture.Storage.Reset();
        }

        // Nothing was acknowledged, and nothing is held: a new retry is granted once, from storage.
        await WaitAsync.UntilAsync(async () => (await server.Checkout(new CheckoutRequest("retried", "client-1", 1))).Granted, "the retry is granted once the store is back");
        var storage = _pool.Service<IServiceProvider>(serverId).GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
        var options = _pool.Service<IOptions<LicensingOptions>>(serverId).Value;
        var (_, stored, _) = await ServerJournal.LoadAsync(storage, grain, options);
        Assert.Equal(["retried"], stored.All.Select(l => l.LeaseId));
    }
}
