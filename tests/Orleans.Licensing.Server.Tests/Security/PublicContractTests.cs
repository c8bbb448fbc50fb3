using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// The public contract (<see cref="ILicensingApiGrain"/>) through a stock Orleans client at a real server's gateway:
/// every method × every role gets the REST answer of the same endpoint (unauthenticated, forbidden, forbidden-client,
/// or through to an answer on the request's merits, so that the matrix changes nothing, which it checks), and a
/// whole lease's life and the admin calls work with the right credentials.
/// </summary>
[Collection(PoolCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class PublicContractTests(PoolFixture pool)
{
    public enum Caller { Anonymous, WrongKey, Reader, Client, TenantB, Admin }

    private const string Through = "through";

    // (level, the call, its answer on the merits when a caller gets through: an error code, or null for a result).
    private static readonly Dictionary<string, (string Level, Func<ILicensingApiGrain, string, string, Task> Call, string? ThroughError)> Methods = new()
    {
        ["Checkout"] = ("client", (api, key, code) => api.Checkout(key, code, "matrix-client", 0, null), LicensingErrors.InvalidRequest),
        ["Heartbeat"] = ("client", (api, key, code) => api.Heartbeat(key, code, new LeaseUpdate("some-lease", "matrix-client", 0, PoolFixture.ServerId)), LicensingErrors.InvalidRequest),
        ["Checkin"] = ("client", (api, key, code) => api.Checkin(key, code, "no-such-lease", "matrix-client", null), LicensingErrors.LeaseUnknown),
        ["GetLicense"] = ("read", (api, key, code) => api.GetLicense(key, code), null),
        ["GetLicenses"] = ("read", (api, key, _) => api.GetLicenses(key), null),
        ["Release"] = ("admin", (api, key, code) => api.Release(key, code, "no-such-lease", "matrix"), LicensingErrors.LeaseUnknown),
        ["AddLicenseCode"] = ("admin", (api, key, _) => api.AddLicenseCode(key, "not-a-grant", null), Grants.GrantErrors.Malformed),
        ["AddAllocations"] = ("admin", (api, key, code) => api.AddAllocations(key, code, "not-a-grant"), Grants.GrantErrors.Malformed),
        ["ChangeDistributionCriteria"] = ("admin", (api, key, code) => api.ChangeDistributionCriteria(key, code,
            new DistributionCriteria(Shares: new Dictionary<string, int> { [PoolFixture.ServerId] = 99 })), LicensingErrors.InvalidRequest),
    };

    public static TheoryData<string, Caller, string> Matrix()
    {
        var data = new TheoryData<string, Caller, string>();
        foreach (var (method, (level, _, _)) in Methods)
        {
            foreach (var caller in Enum.GetValues<Caller>())
            {
                data.Add(method, caller, caller switch
                {
                    Caller.Anonymous or Caller.WrongKey => LicensingErrors.Unauthenticated,
                    Caller.Admin => Through,
                    Caller.Reader => level == "read" ? Through : LicensingErrors.Forbidden,
                    Caller.Client => level is "read" or "client" ? Through : LicensingErrors.Forbidden,
                    _ => level == "read" ? Through : level == "client" ? LicensingErrors.ForbiddenClient : LicensingErrors.Forbidden,
                });
            }
        }

        return data;
    }

    [Theory, MemberData(nameof(Matrix))]
    public async Task Each_method_answers_each_role_as_rest_does_and_changes_nothing(string method, Caller caller, string expected)
    {
        var code = await pool.SharedCodeAsync();
        var before = (await pool.GetLicenseAsync(code)).ToJsonString();
        var api = (await pool.OrleansClientAsync()).GetGrain<ILicensingApiGrain>(0);
        var credential = caller switch
        {
            Caller.Anonymous => "",
            Caller.WrongKey => Grants.ApiKeys.New(),
            Caller.Reader => TestSecurity.ReaderKey,
            Caller.Client => TestSecurity.ClientKey,
            Caller.TenantB => TestSecurity.TenantBKey,
            _ => TestSecurity.AdminKey,
        };
        var (_, call, throughError) = Methods[method];

        string outcome;
        try
        {
            await call(api, credential, code);
            outcome = Through;
        }
        catch (LicensingException e)
        {
            outcome = e.Error;
        }

        Assert.Equal(expected == Through ? throughError ?? Through : expected, outcome);
        Assert.Equal(before, (await pool.GetLicenseAsync(code)).ToJsonString());
    }

    [Fact]
    public async Task A_lease_lives_and_the_admin_calls_apply_through_the_public_contract_with_the_right_credentials()
    {
        var api = (await pool.OrleansClientAsync()).GetGrain<ILicensingApiGrain>(0);
        var code = PoolFixture.NewCode("CONTRACT");
        var added = await api.AddLicenseCode(TestSecurity.AdminKey, TestSecurity.CodeGrant(code, 4), null);
        Assert.Equal(4, added.Total);

        var lease = await api.Checkout(TestSecurity.TenantBKey, code, "tenant-b-web", 3, "contract-lease");
        Assert.Equal((PoolFixture.ServerId, 3, "contract-lease"), (lease.ServerId, lease.Count, lease.LeaseId));
        var view = await api.GetLicense(TestSecurity.ReaderKey, code);
        Assert.Equal(3, view[PoolFixture.ServerId]!.InUse);
        Assert.Equal(3, await pool.InUseAsync(code));
        var denied = await Assert.ThrowsAsync<LicensingException>(() => api.Checkout(TestSecurity.ClientKey, code, "other", 2, null));
        Assert.Equal(LicensingErrors.NoAllocation, denied.Error);

        var renewed = await api.Heartbeat(TestSecurity.TenantBKey, code, new LeaseUpdate(lease.LeaseId, "tenant-b-web", 3, lease.ServerId));
        Assert.True(renewed.ExpiresAt >= lease.ExpiresAt);
        var notTheirs = await Assert.ThrowsAsync<LicensingException>(() => api.Checkin(TestSecurity.TenantBKey, code, lease.LeaseId, "web", null));
        Assert.Equal(LicensingErrors.ForbiddenClient, notTheirs.Error);
        await api.Checkin(TestSecurity.TenantBKey, code, lease.LeaseId, "tenant-b-web", null);
        Assert.Equal(0, await pool.InUseAsync(code));

        var more = await api.AddAllocations(TestSecurity.AdminKey, code, TestSecurity.AllocationsGrant(code, 2));
        Assert.Equal((6, 2), (more.Total, more.FreePool));
        var untrusted = await Assert.ThrowsAsync<LicensingException>(() => api.AddAllocations(TestSecurity.AdminKey, code, TestSecurity.AllocationsGrant(code, 2, key: TestSecurity.UnknownVendor)));
        Assert.Equal(Grants.GrantErrors.UntrustedKey, untrusted.Error);
        var changed = await api.ChangeDistributionCriteria(TestSecurity.AdminKey, code, new DistributionCriteria(Shares: new Dictionary<string, int> { [PoolFixture.ServerId] = 1 }));
        Assert.Equal((1, 5), (changed[PoolFixture.ServerId]!.Allocated, changed.FreePool));
        Assert.Contains(await api.GetLicenses(TestSecurity.ClientKey), d => d.License.Code == code);
        Assert.Equal(6, (await pool.GetLicenseAsync(code)).Int("seats"));
    }
}
