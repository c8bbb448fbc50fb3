namespace Orleans.Licensing;

/// <summary>
/// The leader's last answer to a checkout's borrow was "no source". Until something changes here (a sync, a check-in,
/// an expiry, a dropped lease) or <see cref="LicensingOptions.DenialHold"/> passes, a checkout without room is denied
/// locally: demand beyond the seats is the normal peak of a floating license, and each denial must not cost a leader
/// call. The time bound covers what no sync announces: unused allocations freed at the leader server itself.
/// </summary>
internal sealed record NoSourceVerdict(long Version, long Generation, DateTimeOffset At)
{
    public bool IsCurrent(long version, long generation, TimeSpan hold) =>
        version == Version && generation == Generation && DateTimeOffset.UtcNow - At < hold;
}
