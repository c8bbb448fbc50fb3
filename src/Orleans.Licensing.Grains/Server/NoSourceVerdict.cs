namespace Orleans.Licensing;

/// <summary>
/// The leader's last answer to a checkout's borrow was "no source". Until the leader's distribution changes (a sync: the
/// free pool grew, a server went down, a re-distribution) or <see cref="LicensingOptions.DenialHold"/> passes, a
/// checkout without room is denied locally: demand beyond the seats is the normal peak of a floating license, and each
/// denial must not cost a leader call. A check-in or expiry here needs no borrow (it makes room, which is looked at
/// first), so it does not end the verdict. The time bound covers what no sync announces: allocations that became
/// unused at the leader server or idle at another live server.
/// </summary>
internal sealed record NoSourceVerdict(long Version, DateTimeOffset At)
{
    public bool IsCurrent(long version, TimeSpan hold) => version == Version && DateTimeOffset.UtcNow - At < hold;
}
