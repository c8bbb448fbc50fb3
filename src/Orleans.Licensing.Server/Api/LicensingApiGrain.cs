using Orleans.Concurrency;
using Orleans.Licensing.Server.Security;

namespace Orleans.Licensing.Server.Api;

/// <summary>
/// The public contract for Orleans clients (<see cref="ILicensingApiGrain"/>), served by the license server whose
/// gateway received the call (a stateless worker activates there): each call checks its credential with
/// <see cref="CredentialCheck"/> and the REST role of the same endpoint, then goes through <see cref="PoolGateway"/>,
/// as the REST endpoint does. The protocol grains it calls see a grain as the caller, which the guard admits.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class LicensingApiGrain(PoolGateway pool, LeaseAdmin leases, CredentialCheck credentials) : Grain, ILicensingApiGrain
{
    public async Task<Lease> Checkout(string credential, string code, string clientId, int count, string? leaseId, LeaseOwner? owner = null, TimeSpan? borrowFor = null)
    {
        var user = await credentials.AuthorizeAsync(credential, LicensingPolicies.Client);
        user.EnsureCovers(Validate.ClientId(clientId));
        var body = new CheckoutBody(clientId, count, leaseId, owner?.User, owner?.Host, owner?.DisplayName, borrowFor is { } span ? System.Xml.XmlConvert.ToString(span) : null);
        return await pool.CheckoutAsync(code, body, user.SeatCap());
    }

    public async Task<Lease> Heartbeat(string credential, string code, LeaseUpdate update)
    {
        var user = await credentials.AuthorizeAsync(credential, LicensingPolicies.Client);
        if (update is null) throw Problems.Invalid("A lease update is required.");
        user.EnsureCovers(Validate.ClientId(update.ClientId));
        return await pool.UpdateAsync(code, update.LeaseId,
            new HeartbeatBody(update.ClientId, update.Count, update.ServerId, update.Owner?.User, update.Owner?.Host, update.Owner?.DisplayName));
    }

    public async Task Checkin(string credential, string code, string leaseId, string clientId, string? serverId)
    {
        var user = await credentials.AuthorizeAsync(credential, LicensingPolicies.Client);
        user.EnsureCovers(Validate.ClientId(clientId));
        await pool.CheckinAsync(code, leaseId, clientId, serverId);
    }

    public async Task<Distribution> GetLicense(string credential, string code)
    {
        await credentials.AuthorizeAsync(credential, LicensingPolicies.Tables);
        return await pool.GetLiveLicenseAsync(code);
    }

    public async Task<IReadOnlyList<Distribution>> GetLicenses(string credential)
    {
        await credentials.AuthorizeAsync(credential, LicensingPolicies.Tables);
        return await pool.GetLiveLicensesAsync();
    }

    public async Task<Lease> Release(string credential, string code, string leaseId, string? reason)
    {
        var user = await credentials.AuthorizeAsync(credential, LicensingPolicies.Admin);
        var released = await leases.ReleaseAsync(code, leaseId, user.Actor(), reason);
        return new Lease(released.LeaseId, code, released.ClientId ?? "", released.Count, released.ServerId, released.ExpiresAt, released.ExpiresAt,
            LeaseOwner.Of(released.User, released.Host, released.DisplayName), released.CheckedOutAt);
    }

    public async Task<Distribution> AddLicenseCode(string credential, string grant, DistributionCriteria? criteria)
    {
        var user = await credentials.AuthorizeAsync(credential, LicensingPolicies.Admin);
        return await pool.LiveAsync(await pool.AddLicenseCodeAsync(grant, criteria, user.Actor()));
    }

    public async Task<Distribution> AddAllocations(string credential, string code, string grant)
    {
        var user = await credentials.AuthorizeAsync(credential, LicensingPolicies.Admin);
        return await pool.LiveAsync(await pool.AddAllocationsAsync(code, grant, user.Actor()));
    }

    public async Task<Distribution> SetOfflineBorrowPolicy(string credential, string code, int maxCount, TimeSpan maxDuration)
    {
        await credentials.AuthorizeAsync(credential, LicensingPolicies.Admin);
        return await pool.LiveAsync(await pool.SetOfflineBorrowPolicyAsync(code, maxCount, maxDuration));
    }

    public async Task<Distribution> ChangeDistributionCriteria(string credential, string code, DistributionCriteria criteria)
    {
        var user = await credentials.AuthorizeAsync(credential, LicensingPolicies.Admin);
        return await pool.LiveAsync(await pool.ChangeDistributionCriteriaAsync(code, criteria ?? throw Problems.Invalid("Distribution criteria are required."), user.Actor()));
    }
}
