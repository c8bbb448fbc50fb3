using System.Net;
using System.Text.Json.Nodes;
using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// A stock Orleans client at a real server's gateway calls every method of the internal protocol (the server grain,
/// the leader, the catalog, Orleans' management grain): each is refused <c>forbidden</c>, and afterwards the license
/// view and the live leases are exactly as before, and the server grants no seat beyond the code's.
/// </summary>
[Collection(PoolCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class ProtocolGuardTests(PoolFixture pool)
{
    [Fact]
    public async Task An_orleans_client_at_the_gateway_is_refused_every_internal_call_and_changes_nothing()
    {
        var code = PoolFixture.NewCode("GUARD");
        await pool.AddLicenseAsync(code, 5);
        using var client = pool.Server.CreateHttpClient(TestRole.Client);
        var lease = await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"guard-client","count":2}""");
        Assert.Equal(HttpStatusCode.Created, lease.Status);
        var leaseId = (string)lease.Body!["leaseId"]!;
        var licenseBefore = (await pool.Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}")).Body!.ToJsonString();
        var leasesBefore = (await pool.Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}/leases")).Body!.ToJsonString();

        await using var gateway = await GatewayClient.ConnectAsync(pool.Server);
        var grains = gateway.Client;
        var server = grains.GetServerGrain(PoolFixture.ServerId, code);
        var leader = grains.GetGrain<IPoolGrain>(code);
        // Signed by the trusted test vendor: the filter refuses the internal protocol whatever the message holds.
        var grant = TestSecurity.CodeGrant(code, 1_000);
        var forged = new Distribution(new LicenseCode(code, "forged", 1_000_000), 1_000_000, 0, long.MaxValue,
            [new ServerShare(PoolFixture.ServerId, 1_000_000, 0, 1.0, 1_000_000, ServerStatus.Up, 0)], PoolFixture.ServerId);

        // One-way messages answer nothing: the table afterwards says whether they did anything.
        await server.ApplySync(new DistributionSync(forged, []));
        await leader.ReportUsage(PoolFixture.ServerId, 0);

        var calls = new Dictionary<string, Func<Task>>
        {
            ["IServerGrain.Checkout"] = () => server.Checkout(new CheckoutRequest(Guid.NewGuid().ToString("N"), "intruder", 1)),
            ["IServerGrain.Update"] = () => server.Update(new LeaseUpdate(leaseId, "guard-client", 2, PoolFixture.ServerId)),
            ["IServerGrain.Checkin"] = () => server.Checkin(leaseId, "guard-client"),
            ["IServerGrain.GetView"] = () => server.GetView(),
            ["IServerGrain.GetUsage"] = () => server.GetUsage(),
            ["IServerGrain.GiveUp"] = () => server.GiveUp(new GiveUpRequest(Guid.NewGuid(), 3, GiveUpMode.Unused, long.MaxValue, 0, long.MaxValue)),
            ["IServerGrain.ExpireLeases"] = () => server.ExpireLeases(),
            ["IServerGrain.Release"] = () => server.Release(new ReleaseLease(leaseId, "intruder", "forged")),
            ["IServerGrain.AddLicenseCode"] = () => server.AddLicenseCode(new AddLicenseCode(TestSecurity.CodeGrant("FORGED-" + code, 1_000))),
            ["IServerGrain.AddAllocations"] = () => server.AddAllocations(new AddAllocations(code, TestSecurity.AllocationsGrant(code, 1_000))),
            ["IServerGrain.ChangeDistributionCriteria"] = () => server.ChangeDistributionCriteria(new ChangeDistributionCriteria(code, new DistributionCriteria(Even: true, FreePoolReserve: 5))),
            ["IPoolGrain.Borrow"] = () => leader.Borrow(new BorrowRequest(Guid.NewGuid(), PoolFixture.ServerId, 3, BorrowReason.ClientRequest, 0)),
            ["IPoolGrain.Rejoin"] = () => leader.Rejoin(PoolFixture.ServerId, "127.0.0.1:1@1"),
            ["IPoolGrain.GetSyncSince"] = () => leader.GetSyncSince(0),
            ["IPoolGrain.AddLicenseCode"] = () => leader.AddLicenseCode(new AddLicenseCode(grant)),
            ["IPoolGrain.AddAllocations"] = () => leader.AddAllocations(new AddAllocations(code, TestSecurity.AllocationsGrant(code, 1_000))),
            ["IPoolGrain.ChangeDistributionCriteria"] = () => leader.ChangeDistributionCriteria(new ChangeDistributionCriteria(code, new DistributionCriteria(FreePoolReserve: 5))),
            ["IPoolGrain.Release"] = () => leader.Release(PoolFixture.ServerId),
            ["IPoolGrain.Redistribute"] = () => leader.Redistribute(),
            ["IPoolGrain.RefreshMembership"] = () => leader.RefreshMembership(),
            ["IPoolGrain.GetDistribution"] = () => leader.GetDistribution(),
            ["IPoolGrain.GetHeldLeases"] = () => leader.GetHeldLeases(),
            ["ICatalogGrain.Add"] = () => grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).Add("FORGED-" + code),
            ["ICatalogGrain.GetCodes"] = () => grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes(),
            ["IManagementGrain.GetHosts"] = () => grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true),
            ["IManagementGrain.ForceActivationCollection"] = () => grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero),
        };
        var outcomes = new List<string>();
        foreach (var (name, call) in calls)
        {
            try
            {
                await call();
                outcomes.Add($"{name}: done");
            }
            catch (LicensingException e) when (e.Error == LicensingErrors.Forbidden)
            {
            }
            catch (Exception e)
            {
                outcomes.Add($"{name}: {e.GetType().Name} {e.Message}");
            }
        }

        Assert.True(outcomes.Count == 0, "Not refused forbidden:\n" + string.Join("\n", outcomes));
        Assert.Equal(licenseBefore, (await pool.Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}")).Body!.ToJsonString());
        Assert.Equal(leasesBefore, (await pool.Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}/leases")).Body!.ToJsonString());
        Assert.DoesNotContain("FORGED-" + code, (await pool.Http.SendAsync(HttpMethod.Get, "api/v1/licenses")).Body!.ToJsonString());

        // 3 of 5 seats are left: a forged sync that the server took would let it grant 4.
        var beyond = await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"guard-client","count":4}""");
        Api.AssertProblem(beyond, HttpStatusCode.Conflict, LicensingErrors.NoAllocation);
        var rest = await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"guard-client","count":3}""");
        Assert.Equal(HttpStatusCode.Created, rest.Status);
        Assert.Equal(5, await pool.InUseAsync(code));
    }

    /// <summary>What the chart runs without the frontend: Licensing:GatewayPort=0, a server with no gateway at all.</summary>
    [Fact]
    public async Task A_server_without_a_gateway_serves_rest_and_no_orleans_client_connects()
    {
        var data = Path.Combine(Path.GetTempPath(), "licensing-tests", "no-gateway-" + Guid.NewGuid().ToString("N"));
        await using var server = new ServerProcess("no-gateway", data, settings: new Dictionary<string, string> { ["Licensing__GatewayPort"] = "0" });
        try
        {
            await server.StartAsync();
            using var http = server.CreateHttpClient(TestRole.Reader);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(HttpMethod.Get, "api/v1/licenses")).Status);
            using var probe = new System.Net.Sockets.TcpClient();
            await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, server.GatewayPort));
        }
        finally
        {
            await server.DisposeAsync();
            PoolFixture.TryDelete(data);
        }
    }
}
