namespace Orleans.Licensing.Server.Security;

/// <summary>The roles a credential carries (API key entries, or the role claim of a JWT).</summary>
public static class LicensingRoles
{
    /// <summary>Everything: license codes, allocations, distribution, every lease of every client, the admin pages.</summary>
    public const string Admin = "Admin";

    /// <summary>Reads the pool's tables (licenses, servers); changes nothing.</summary>
    public const string Reader = "Reader";

    /// <summary>Checks out, renews, fails over and checks in leases of the client ids its credential covers; reads like a reader.</summary>
    public const string Client = "Client";
}

/// <summary>Authorization policy names of the REST API and the admin surfaces.</summary>
public static class LicensingPolicies
{
    public const string Admin = "licensing-admin";
    public const string Reader = "licensing-reader";
    public const string Client = "licensing-client";

    /// <summary>The claim with the client ids a credential covers: an exact id, or a prefix ending in '*'.</summary>
    public const string ClientIdClaim = "licensing:client-id";
}
