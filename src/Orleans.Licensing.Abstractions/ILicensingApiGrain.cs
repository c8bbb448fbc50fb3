namespace Orleans.Licensing;

/// <summary>
/// The public contract of the pool for Orleans clients (an ASP.NET frontend): the REST API's lease, view and admin
/// calls as grain calls, with the same rules. Every call carries the caller's credential (an API key or a JWT of the
/// configured issuer), which the license server checks with its own keys and the REST roles: admin, reader, client
/// (leases of the client ids its credential covers). Refusals are <see cref="LicensingException"/>s with the REST
/// error codes (<c>unauthenticated</c>, <c>forbidden</c>, <c>forbidden-client</c>, ...). It is the only grain interface
/// an Orleans client may call: <see cref="IServerGrain"/>, <see cref="IPoolGrain"/> and <see cref="ICatalogGrain"/> are
/// the pool's internal protocol and refuse clients. Use key 0; a call is served by the license server whose gateway
/// the client sent it to.
/// </summary>
[Alias("Orleans.Licensing.ILicensingApiGrain")]
public interface ILicensingApiGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// A checkout at this license server; <paramref name="leaseId"/> null: a new id (send your own to retry safely).
    /// <paramref name="owner"/> says who holds the lease (shown to administrators). <paramref name="borrowFor"/>: an
    /// offline borrow, held that long without heartbeats. Denied: <c>no-allocation</c>, <c>borrow-limit</c>.
    /// </summary>
    [Alias("Checkout")]
    Task<Lease> Checkout(string credential, string code, string clientId, int count, string? leaseId, LeaseOwner? owner = null, TimeSpan? borrowFor = null);

    /// <summary>A heartbeat; naming another server than this one it is a fail-over update.</summary>
    [Alias("Heartbeat")]
    Task<Lease> Heartbeat(string credential, string code, LeaseUpdate update);

    /// <summary>Checks a lease in at <paramref name="serverId"/> (null: this server); unknown: <c>lease-unknown</c>.</summary>
    [Alias("Checkin")]
    Task Checkin(string credential, string code, string leaseId, string clientId, string? serverId);

    /// <summary>The license view: the distribution with each functioning server's live in-use count (reader).</summary>
    [Alias("GetLicense")]
    Task<Distribution> GetLicense(string credential, string code);

    /// <summary>Every license code's license view (reader).</summary>
    [Alias("GetLicenses")]
    Task<IReadOnlyList<Distribution>> GetLicenses(string credential);

    /// <summary>
    /// Releases a lease at the server that holds it (admin): its seat returns there, its client's next heartbeat hears
    /// <c>lease-released</c>. Unknown: <c>lease-unknown</c>; released before: <c>lease-released</c>; its server is down:
    /// <c>lease-held</c>. Returns the lease as it was.
    /// </summary>
    [Alias("Release")]
    Task<Lease> Release(string credential, string code, string leaseId, string? reason);

    /// <summary>Adds a license code from a vendor-signed grant (admin).</summary>
    [Alias("AddLicenseCode")]
    Task<Distribution> AddLicenseCode(string credential, string grant, DistributionCriteria? criteria);

    /// <summary>Adds allocations to a code's free pool from a vendor-signed grant (admin).</summary>
    [Alias("AddAllocations")]
    Task<Distribution> AddAllocations(string credential, string code, string grant);

    /// <summary>Sets a code's offline borrow policy (admin): at most <paramref name="maxCount"/> seats borrowed at once, each at most <paramref name="maxDuration"/>.</summary>
    [Alias("SetOfflineBorrowPolicy")]
    Task<Distribution> SetOfflineBorrowPolicy(string credential, string code, int maxCount, TimeSpan maxDuration);

    /// <summary>Changes a code's distribution criteria (admin).</summary>
    [Alias("ChangeDistributionCriteria")]
    Task<Distribution> ChangeDistributionCriteria(string credential, string code, DistributionCriteria criteria);
}
