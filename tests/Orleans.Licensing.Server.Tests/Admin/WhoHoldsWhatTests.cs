using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Client;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests.Admin;

/// <summary>
/// Who holds what, over real HTTP against a real server (docs/admin/who-holds-what.md): a checkout's owner in the lease
/// list (lmstat), an administrator's release (lmremove) that frees the seat and tells the client, refusals for other
/// roles, the release through the public Orleans contract, and the audit rows with their actor.
/// </summary>
[Collection(PoolCollection.Name), Trait("Category", "Process")]
public sealed class WhoHoldsWhatTests(PoolFixture pool)
{
    private HttpClient Admin => pool.Http;

    private static async Task<JsonNode> CheckoutAsync(HttpClient http, string code, string json)
    {
        var answer = await http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", json);
        Assert.True(answer.Status == HttpStatusCode.Created, $"{(int)answer.Status} {answer.Body?.ToJsonString()}");
        return answer.Body!;
    }

    private async Task<JsonArray> LeasesAsync(string code, TestRole role = TestRole.Reader)
    {
        using var http = pool.Server.CreateHttpClient(role);
        var answer = await http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}/leases");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        return answer.Body!.AsArray();
    }

    /// <summary>The usage log is written in batches: wait for the row.</summary>
    private async Task<JsonNode> UsageRowAsync(string code, string kind, Func<JsonNode, bool>? match = null) =>
        await Until.ValueAsync(async () => (await Admin.SendAsync(HttpMethod.Get, $"api/v1/usage?code={code}&kind={kind}")).Body!.AsArray()
            .FirstOrDefault(e => match?.Invoke(e!) ?? true), e => e is not null, TimeSpan.FromSeconds(15), $"a {kind} row of {code}") ?? throw new InvalidOperationException();

    [Fact]
    public async Task A_checkout_with_an_owner_is_listed_to_a_reader_with_user_host_and_since()
    {
        var code = PoolFixture.NewCode("LMSTAT");
        await pool.AddLicenseAsync(code, 5);
        using var client = pool.Server.CreateHttpClient(TestRole.Client);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var lease = await CheckoutAsync(client, code, """{"clientId":"cad-7","count":2,"user":"ada","host":"ws-17","displayName":"Ada Lovelace"}""");
        await CheckoutAsync(client, code, """{"clientId":"cad-8","count":1}""");

        var leases = await LeasesAsync(code);
        Assert.Equal(2, leases.Count);
        var row = leases.Single(l => (string?)l!["clientId"] == "cad-7")!;
        Assert.Equal((string?)lease["leaseId"], (string?)row["leaseId"]);
        Assert.Equal(("ada", "ws-17", "Ada Lovelace", 2, PoolFixture.ServerId, "active"),
            ((string?)row["user"], (string?)row["host"], (string?)row["displayName"], row.Int("count"), (string?)row["serverId"], (string?)row["state"]));
        var since = row["checkedOutAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(since, before, DateTimeOffset.UtcNow);
        Assert.True(row["expiresAt"]!.GetValue<DateTimeOffset>() > since);
        var anonymous = leases.Single(l => (string?)l!["clientId"] == "cad-8")!;
        Assert.Null((string?)anonymous["user"]);

        // A renewal keeps the first grant time; the SDK lists the same.
        await client.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{(string?)lease["leaseId"]}", """{"clientId":"cad-7","count":2,"serverId":"alpha","user":"ada","host":"ws-17"}""");
        await using var services = ReaderServices();
        var listed = await services.GetRequiredService<LicensingClient>().GetLeasesAsync(code);
        var sdkRow = listed.Single(l => l.ClientId == "cad-7");
        Assert.Equal((since, "ada", "ws-17", "active"), (sdkRow.CheckedOutAt!.Value, sdkRow.User, sdkRow.Host, sdkRow.State));

        var checkout = await UsageRowAsync(code, "checkout", e => (string?)e["clientId"] == "cad-7");
        Assert.Equal(("ada", "ws-17"), ((string?)checkout["ownerUser"], (string?)checkout["ownerHost"]));

        // An owner part with a control character is refused and grants nothing.
        AssertProblem(await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"cad-9","count":1,"user":"ada\u0007"}"""),
            HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal(3, await pool.InUseAsync(code));
    }

    [Fact]
    public async Task An_admin_release_frees_the_seat_the_client_hears_lease_released_and_the_audit_names_the_admin()
    {
        var code = PoolFixture.NewCode("LMREMOVE");
        await pool.AddLicenseAsync(code, 2);
        using var client = pool.Server.CreateHttpClient(TestRole.Client);
        var lease = await CheckoutAsync(client, code, """{"clientId":"cad-1","count":2,"user":"bob","host":"ws-2"}""");
        var leaseId = (string)lease["leaseId"]!;
        AssertProblem(await client.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"cad-2","count":1}"""), HttpStatusCode.Conflict, "no-allocation");

        // Neither a reader nor a client may release, and their attempts change nothing.
        foreach (var role in new[] { TestRole.Reader, TestRole.Client })
        {
            using var other = pool.Server.CreateHttpClient(role);
            AssertProblem(await other.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases/{leaseId}/release", """{"reason":"mine now"}"""), HttpStatusCode.Forbidden, "forbidden");
        }

        Assert.Equal(2, await pool.InUseAsync(code));

        var released = await Admin.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases/{leaseId}/release", """{"reason":"bob left at noon"}""");
        Assert.Equal(HttpStatusCode.OK, released.Status);
        Assert.Equal((leaseId, "cad-1", 2, "bob", "released"),
            ((string?)released.Body!["leaseId"], (string?)released.Body["clientId"], released.Body.Int("count"), (string?)released.Body["user"], (string?)released.Body["state"]));
        Assert.Equal(0, await pool.InUseAsync(code));
        await CheckoutAsync(client, code, """{"clientId":"cad-2","count":1}""");

        AssertProblem(await client.SendAsync(HttpMethod.Put, $"api/v1/licenses/{code}/leases/{leaseId}", """{"clientId":"cad-1","count":2,"serverId":"alpha"}"""),
            HttpStatusCode.NotFound, "lease-released");
        AssertProblem(await Admin.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases/{leaseId}/release"), HttpStatusCode.NotFound, "lease-released");
        AssertProblem(await Admin.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases/no-such-lease/release"), HttpStatusCode.NotFound, "lease-unknown");
        AssertProblem(await Admin.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases/{leaseId}/release", $$"""{"reason":"{{new string('r', 501)}}"}"""),
            HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal(1, await pool.InUseAsync(code));

        var audit = await UsageRowAsync(code, "release");
        Assert.Equal(("test-admin", "bob left at noon", leaseId, "cad-1", 2, "bob", "ws-2"),
            ((string?)audit["actor"], (string?)audit["detail"], (string?)audit["leaseId"], (string?)audit["clientId"], audit.Int("count"), (string?)audit["ownerUser"], (string?)audit["ownerHost"]));
        var added = await UsageRowAsync(code, "code-added");
        Assert.Equal("test-admin", (string?)added["actor"]);
        var csv = (await Admin.GetStringAsync($"api/v1/usage?code={code}&kind=release&format=csv")).Split('\n');
        Assert.Equal("at,kind,code,server,client,count,lease,detail,actor,owner_user,owner_host", csv[0]);
        Assert.EndsWith($",release,{code},alpha,cad-1,2,{leaseId},bob left at noon,test-admin,bob,ws-2", csv[1]);
    }

    [Fact]
    public async Task A_released_sdk_lease_is_lost_with_lease_released_at_its_next_heartbeat()
    {
        var code = PoolFixture.NewCode("SDKREL");
        await pool.AddLicenseAsync(code, 3);
        await using var services = pool.ClientServices();
        var lost = new TaskCompletionSource<LeaseLostEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var lease = await services.GetRequiredService<LicensingClient>().AcquireAsync(code, 1);
        lease.Lost += (_, e) => lost.TrySetResult(e);

        // The SDK sent its owner: this process's user and machine by default.
        var row = (await LeasesAsync(code)).Single()!;
        Assert.Equal((Environment.UserName, Environment.MachineName), ((string?)row["user"], (string?)row["host"]));

        await using var admin = AdminServices();
        var released = await admin.GetRequiredService<LicensingClient>().ReleaseAsync(code, lease.LeaseId, "sdk test");
        Assert.Equal("released", released.State);
        var args = await lost.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("lease-released", args.Error);
        Assert.Equal(0, await pool.InUseAsync(code));
    }

    [Fact]
    public async Task The_public_contract_releases_with_an_admin_credential_and_refuses_a_client_one()
    {
        var api = (await pool.OrleansClientAsync()).GetGrain<ILicensingApiGrain>(0);
        var code = PoolFixture.NewCode("CONTRACTREL");
        await api.AddLicenseCode(TestSecurity.AdminKey, TestSecurity.CodeGrant(code, 2), null);
        var lease = await api.Checkout(TestSecurity.ClientKey, code, "web-1", 2, null, new LeaseOwner("carol", "kiosk-3"));
        Assert.Equal(new LeaseOwner("carol", "kiosk-3"), lease.Owner);

        var refused = await Assert.ThrowsAsync<LicensingException>(() => api.Release(TestSecurity.ClientKey, code, lease.LeaseId, "not mine"));
        Assert.Equal(LicensingErrors.Forbidden, refused.Error);
        Assert.Equal(2, await pool.InUseAsync(code));

        var released = await api.Release(TestSecurity.AdminKey, code, lease.LeaseId, "kiosk rebooted");
        Assert.Equal((lease.LeaseId, "web-1", 2, "carol"), (released.LeaseId, released.ClientId, released.Count, released.Owner?.User));
        Assert.Equal(0, await pool.InUseAsync(code));
        var heartbeat = await Assert.ThrowsAsync<LicensingException>(() => api.Heartbeat(TestSecurity.ClientKey, code, new LeaseUpdate(lease.LeaseId, "web-1", 2, lease.ServerId)));
        Assert.Equal(LicensingErrors.LeaseReleased, heartbeat.Error);
        var again = await Assert.ThrowsAsync<LicensingException>(() => api.Release(TestSecurity.AdminKey, code, lease.LeaseId, null));
        Assert.Equal(LicensingErrors.LeaseReleased, again.Error);
        Assert.Equal("test-admin", (string?)(await UsageRowAsync(code, "release"))["actor"]);
    }

    [Fact]
    public async Task Owner_cells_a_spreadsheet_would_run_as_formulas_are_neutralised_in_the_csv()
    {
        var code = PoolFixture.NewCode("CSVOWNER");
        await pool.AddLicenseAsync(code, 2);
        using var client = pool.Server.CreateHttpClient(TestRole.Client);
        await CheckoutAsync(client, code, """{"clientId":"plain","count":1,"user":"=1+2","host":"@SUM(A1)"}""");
        await UsageRowAsync(code, "checkout");
        var csv = await Admin.GetStringAsync($"api/v1/usage?code={code}&kind=checkout&format=csv");
        Assert.EndsWith(",,'=1+2,'@SUM(A1)\n", csv);
    }

    private ServiceProvider ReaderServices() => Services(TestSecurity.ReaderKey);

    private ServiceProvider AdminServices() => Services(TestSecurity.AdminKey);

    private ServiceProvider Services(string key) =>
        new ServiceCollection().AddLogging().AddLicensingClient(o =>
        {
            o.Servers = [pool.Server.Url];
            o.ApiKey = key;
        }).Services.BuildServiceProvider();
}
