namespace Orleans.Licensing.Server.Security;

/// <summary>The roles a credential carries (API key entries, or the role claim of a JWT).</summary>
public static class LicensingRoles
{
    /// <summary>Everything: license codes, allocations, distribution, every lease of every client, the admin pages.</summary>
    public const string Admin = "Admin";

    /// <summary>Reads the pool's tables (licenses, servers); changes nothing.</summary>
    public const string Reader = "Reader";

    /// <summary>
    /// Checks out, renews, fails over and checks in leases of the client ids its credential covers; reads the license
    /// tables and servers (no client or lease ids there), never the usage log, the metrics or the lease list.
    /// </summary>
    public const string Client = "Client";
}

/// <summary>Authorization policy names of the REST API and the admin surfaces.</summary>
public static class LicensingPolicies
{
    public const string Admin = "licensing-admin";

    /// <summary>Admin or reader: the usage log, its report and CSV, /metrics (every tenant's client and lease ids).</summary>
    public const string Reader = "licensing-reader";

    /// <summary>Every role: the license tables and the servers (seat counts and server ids only).</summary>
    public const string Tables = "licensing-tables";
    public const string Client = "licensing-client";

    /// <summary>The claim with the client ids a credential covers: an exact id, or a prefix ending in '*'.</summary>
    public const string ClientIdClaim = "licensing:client-id";

    /// <summary>The claim with a client key's <c>MaxSeats</c> (API key entries only).</summary>
    public const string MaxSeatsClaim = "licensing:max-seats";
}
