using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests;

/// <summary>The client SDK against a real license server: acquire, renew in the background, check in on dispose.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Process")]
public sealed class ClientSdkTests(PoolFixture pool)
{
    [Fact, Trait("Claim", "1")]
    public async Task Acquire_checks_out_and_dispose_checks_in()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 5);
        await using var services = pool.ClientServices();
        var client = services.GetRequiredService<LicensingClient>();

        var lease = await client.AcquireAsync(code, 3);

        Assert.Equal(code, lease.Code);
        Assert.Equal(3, lease.Count);
        Assert.Equal(PoolFixture.ServerId, lease.ServerId);
        Assert.Equal(pool.Server.Url, lease.Server);
        Assert.False(lease.IsLost);
        Assert.Equal(3, await pool.InUseAsync(code));

        await lease.DisposeAsync();

        Assert.Equal(0, await pool.InUseAsync(code));
        await lease.DisposeAsync();
    }

    [Fact]
    public async Task A_lease_renews_itself_in_the_background()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 5);
        await using var services = pool.ClientServices();
        var renewals = 0;
        await using var lease = await services.GetRequiredService<LicensingClient>().AcquireAsync(code, 2);
        lease.Renewed += (_, e) => Interlocked.Increment(ref renewals);
        var firstExpiry = lease.ExpiresAt;

        // Three renewals take longer than the lease lives (renew after a third of it): it only survives by renewing.
        await Until.TrueAsync(() => Task.FromResult(Volatile.Read(ref renewals) >= 3), TimeSpan.FromSeconds(30), "three renewals");

        Assert.False(lease.IsLost);
        Assert.Equal(0, lease.FailOvers);
        Assert.True(lease.ExpiresAt > firstExpiry + PoolFixture.LeaseTtl / 3 * 2);
        Assert.True(DateTimeOffset.UtcNow > firstExpiry - TimeSpan.FromSeconds(1));
        Assert.Equal(2, await pool.InUseAsync(code));
    }

    [Fact]
    public async Task A_refused_renewal_raises_lost()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 1);
        await using var services = pool.ClientServices();
        var client = services.GetRequiredService<LicensingClient>();
        var lost = new TaskCompletionSource<LeaseLostEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var lease = await client.AcquireAsync(code, 1);
        lease.Lost += (_, e) => lost.TrySetResult(e);

        // Right after a renewal, behind the lease's back: its seat is checked in and taken by someone else, so its
        // next heartbeat (a third of the TTL later) is refused: the server no longer holds that lease.
        var renewed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lease.Renewed += (_, _) => renewed.TrySetResult();
        await renewed.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await client.CheckinAsync(code, lease.LeaseId);
        var thief = await client.CheckoutAsync(code, 1, "someone-else");

        var e = await lost.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("lease-unknown", e.Error);
        Assert.True(lease.IsLost);
        Assert.Equal(lease.LeaseId, e.Lease.LeaseId);
        Assert.Equal(1, await pool.InUseAsync(code));
        await client.CheckinAsync(code, thief.LeaseId, clientId: "someone-else");
    }

    [Fact]
    public async Task Acquire_reports_refusals_and_moves_past_unreachable_servers()
    {
        var code = PoolFixture.NewCode();
        await pool.AddLicenseAsync(code, 1);
        var dead = new Uri($"http://127.0.0.1:{ServerProcess.FreePort()}/");
        await using var services = pool.ClientServices(dead, pool.Server.Url);
        var client = services.GetRequiredService<LicensingClient>();

        await using var lease = await client.AcquireAsync(code, 1);
        Assert.Equal(pool.Server.Url, lease.Server);

        var refused = await Assert.ThrowsAsync<LicensingProblemException>(() => client.AcquireAsync(code, 1));
        Assert.Equal("no-allocation", refused.Error);
        Assert.Equal((int)HttpStatusCode.Conflict, refused.Status);
        var unknown = await Assert.ThrowsAsync<LicensingProblemException>(() => client.AcquireAsync("NO-SUCH-CODE", 1));
        Assert.Equal("unknown-license", unknown.Error);

        await using var deadOnly = pool.ClientServices(dead);
        await Assert.ThrowsAsync<LicensingUnavailableException>(() => deadOnly.GetRequiredService<LicensingClient>().AcquireAsync(code, 1));
        Assert.Equal(1, await pool.InUseAsync(code));
    }
}
