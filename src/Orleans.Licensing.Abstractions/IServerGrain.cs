namespace Orleans.Licensing;

/// <summary>
/// One license server's part of one license code (key: "{serverId}/{code}"). It lives only on the silo named serverId.
/// </summary>
[Alias("Orleans.Licensing.IServerGrain")]
public interface IServerGrain : IGrainWithStringKey
{
    /// <summary>A client's request for authorization.</summary>
    [Alias("Checkout")]
    Task<CheckoutResult> Checkout(CheckoutRequest request);

    /// <summary>A heartbeat; sent to a server that does not hold the lease, it is a fail-over update and the lease is adopted.</summary>
    [Alias("Update")]
    Task<Lease> Update(LeaseUpdate update);

    /// <summary>Check a lease in. False when this server does not hold it for that client.</summary>
    [Alias("Checkin")]
    Task<bool> Checkin(string leaseId, string clientId);

    /// <summary>
    /// An administrator releases a lease this server holds (the REST layer checked the Admin role): null when it does not
    /// hold it; <c>lease-released</c> when it released it within the last lease TTL.
    /// </summary>
    [Alias("Release")]
    Task<Lease?> Release(ReleaseLease message);

    /// <summary>Everything this server holds of the code, every lease included: for tools and tests, not for polling.</summary>
    [Alias("GetView")]
    Task<ServerView> GetView();

    /// <summary>How many allocations this server manages and has in use now; cheap whatever the number of leases.</summary>
    [Alias("GetUsage"), AlwaysInterleave]
    Task<ServerUsage> GetUsage();

    /// <summary>The leader asks this server to give allocations up; the giver shrinks its record before the taker grows.</summary>
    [Alias("GiveUp")]
    Task<GiveUpResult> GiveUp(GiveUpRequest request);

    /// <summary>Distribution criteria sync from the leader.</summary>
    [Alias("ApplySync"), OneWay]
    Task ApplySync(DistributionSync sync);

    /// <summary>Remove expired leases now (the timer does this periodically). Returns how many expired.</summary>
    [Alias("ExpireLeases")]
    Task<int> ExpireLeases();

    // Admin messages received by any server are forwarded to the current leader (claims 8, 10, 12).
    [Alias("AddLicenseCode")]
    Task<Distribution> AddLicenseCode(AddLicenseCode message);

    [Alias("AddAllocations")]
    Task<Distribution> AddAllocations(AddAllocations message);

    [Alias("ChangeDistributionCriteria")]
    Task<Distribution> ChangeDistributionCriteria(ChangeDistributionCriteria message);

    [Alias("SetOfflineBorrowPolicy")]
    Task<Distribution> SetOfflineBorrowPolicy(SetOfflineBorrowPolicy message);

    [Alias("SetLinger")]
    Task<Distribution> SetLinger(SetLinger message);
}

public static class ServerGrainKey
{
    public static string Of(string serverId, string code) => $"{serverId}/{code}";

    public static (string ServerId, string Code) Parse(string key)
    {
        var slash = key.IndexOf('/');
        if (slash <= 0) throw new ArgumentException($"'{key}' is not a server grain key (serverId/code).", nameof(key));
        return (key[..slash], key[(slash + 1)..]);
    }

    public static IServerGrain GetServerGrain(this IGrainFactory factory, string serverId, string code) =>
        factory.GetGrain<IServerGrain>(Of(serverId, code));
}
