using Orleans.Licensing.Usage;

namespace Orleans.Licensing;

/// <summary>
/// The admin messages a server grain receives from its own REST layer (which checked the Admin role): the changes it
/// forwards to the leader, and the release of a lease it holds. Each is logged in the usage log with its actor.
/// </summary>
public sealed partial class ServerGrain
{
    // Admin changes are logged here, where the REST layer sends them, once the leader has made them durable.
    async Task<Distribution> IServerGrain.AddLicenseCode(AddLicenseCode message) =>
        Added(UsageKinds.CodeAdded, message.Grant, await Leader.AddLicenseCode(message), message.Actor);

    async Task<Distribution> IServerGrain.AddAllocations(AddAllocations message) =>
        Added(UsageKinds.AllocationsAdded, message.Grant, await Leader.AddAllocations(message), message.Actor);

    /// <summary>The leader accepted the grant (it verified it): log the seats it added and its grant id.</summary>
    private Distribution Added(string kind, string grant, Distribution answer, string? actor)
    {
        var applied = Orleans.Licensing.Grants.GrantCodec.Decode(grant);
        LogGrantApplied(_code, applied.GrantId, applied.Seats ?? applied.Count ?? 0);
        return _usage.Admin(kind, _code, _serverId, applied.Seats ?? applied.Count ?? 0, answer, actor);
    }

    async Task<Distribution> IServerGrain.ChangeDistributionCriteria(ChangeDistributionCriteria message) =>
        _usage.Admin(UsageKinds.DistributionChanged, _code, _serverId, 0, await Leader.ChangeDistributionCriteria(message), message.Actor);

    /// <summary>
    /// A check-in on an administrator's behalf: the seat returns to this server's room, and the id is remembered for a
    /// lease TTL so that the client's next heartbeat hears <c>lease-released</c> and a second release is refused alike.
    /// </summary>
    async Task<Lease?> IServerGrain.Release(ReleaseLease message)
    {
        ThrowIfBroken();
        if (string.IsNullOrEmpty(message.LeaseId) || string.IsNullOrEmpty(message.Actor)) return null;
        if (message.Reason is { Length: > Limits.MaxReasonLength })
            throw new LicensingException(LicensingErrors.InvalidRequest, $"A reason is at most {Limits.MaxReasonLength} characters.");
        var now = DateTimeOffset.UtcNow;
        _released.ThrowIfReleased(message.LeaseId, _serverId, now);
        if (!_leases.TryGet(message.LeaseId, out var lease)) return null;
        _leases.Remove(lease.LeaseId);
        _released.Add(lease.LeaseId, now);
        await CommitAsync();
        LogLeaseReleased(_serverId, _code, lease.LeaseId, lease.ClientId, lease.Count, message.Actor);
        _usage.Lease(UsageKinds.Release, _code, _serverId, lease, message.Reason, message.Actor);
        // A released offline borrow gives its permit back, as its return would: the pool-wide count must not keep it.
        if (lease.Borrowed) await ReleaseOfflineBorrowAsync(lease.LeaseId, lease.ExpiresAt);
        return ToLease(lease);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: grant {GrantId} applied ({Seats} seats)")]
    private partial void LogGrantApplied(string code, string grantId, int seats);

    [LoggerMessage(Level = LogLevel.Information, Message = "{ServerId} released lease {LeaseId} of {Code} (client {ClientId}, {Count}) for {Actor}")]
    private partial void LogLeaseReleased(string serverId, string code, string leaseId, string clientId, int count, string actor);
}
