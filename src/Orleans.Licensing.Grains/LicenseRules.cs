namespace Orleans.Licensing;

/// <summary>
/// What the grains accept whoever calls them (REST validates the same limits, with finer text rules, before any grain
/// is called; see <see cref="Limits"/>).
/// </summary>
internal static class LicenseRules
{
    public static void Validate(LicenseCode license, string poolCode)
    {
        if (string.IsNullOrWhiteSpace(license.Code) || license.Code.Length > Limits.MaxCodeLength || license.Code.Contains('/'))
            throw Invalid($"A license code must be 1 to {Limits.MaxCodeLength} characters with no '/'.");
        if (license.Code != poolCode) throw Invalid($"This pool serves '{poolCode}', not '{license.Code}'.");
        if (string.IsNullOrWhiteSpace(license.Product)) throw Invalid("A product is required.");
        if (license.Seats < 1 || license.Seats > Limits.MaxSeats) throw Invalid($"Seats must be between 1 and {Limits.MaxSeats}.");
    }

    public static void ValidateAddedSeats(int total, int count)
    {
        if (count < 1 || (long)total + count > Limits.MaxSeats) throw Invalid($"Count must be at least 1 and the total at most {Limits.MaxSeats}.");
    }

    /// <summary>A checkout or heartbeat: the lease id, the client id and a count the license can serve.</summary>
    public static void ValidateLease(string leaseId, string clientId, int count, LicenseCode license)
    {
        if (string.IsNullOrWhiteSpace(leaseId) || leaseId.Length > Limits.MaxLeaseIdLength)
            throw Invalid($"A lease id of 1 to {Limits.MaxLeaseIdLength} characters is required.");
        if (string.IsNullOrWhiteSpace(clientId) || clientId.Length > Limits.MaxClientIdLength)
            throw Invalid($"A client id of 1 to {Limits.MaxClientIdLength} characters is required.");
        if (count < 1 || count > license.Seats)
            throw Invalid($"Count must be between 1 and {license.Seats}, the seats of '{license.Code}'.");
    }

    /// <summary>A lease's owner is display data, but still bounded: no part over the limit, no control characters.</summary>
    public static void ValidateOwner(LeaseOwner? owner)
    {
        if (owner?.Invalid() is { } part)
            throw Invalid($"The owner's {part} must be at most {Limits.MaxOwnerPartLength} characters without control characters.");
    }

    /// <summary>A lease id already held is the same lease only for the same client and count.</summary>
    public static void EnsureSameHolder(LeaseRecord lease, string clientId, int count)
    {
        if (lease.ClientId != clientId || lease.Count != count)
        {
            throw new LicensingException(LicensingErrors.Conflict, $"Lease '{lease.LeaseId}' is held by another client or with another count.");
        }
    }

    private static LicensingException Invalid(string message) => new(LicensingErrors.InvalidRequest, message);
}
