namespace Orleans.Licensing;

/// <summary>
/// Which distribution a server takes as its own, pure. Versions order the leader's commits; a give-up shrinks a server
/// between two of them, so the row it answered from must never be applied again, and the next commit must be.
/// </summary>
internal static class SyncRule
{
    /// <summary>Whether a sync's row for this server replaces its record (a rejoin takes the leader's durable row).</summary>
    public static bool TakesRow(long syncVersion, long appliedVersion, bool rejoining) => rejoining || syncVersion > appliedVersion;

    /// <summary>
    /// Whether a sync's adopted leases apply: not from a sync older than what the server applied (a lease adopted away
    /// and back again since would be dropped).
    /// </summary>
    public static bool TakesAdoptions(long syncVersion, long appliedVersion, bool rejoining) => rejoining || syncVersion >= appliedVersion;

    /// <summary>
    /// The leader counts this server down (it fenced it) in a newer distribution: what it holds may be counted
    /// elsewhere, and it serves nothing more until it reloads and rejoins.
    /// </summary>
    public static bool CountsUsDown(Distribution distribution, string serverId, long appliedVersion, bool rejoining) =>
        !rejoining && distribution.Version > appliedVersion && distribution[serverId]?.Status == ServerStatus.Down;

    /// <summary>
    /// What a give-up starts from: the leader's row when it is newer than ours (a raise may not have reached us yet),
    /// else our own record. At the same version ours is the row minus every give-up answered since; the leader's may
    /// still count one whose write failed (it reloaded that version), and starting from it would give seats twice.
    /// </summary>
    public static int AllocatedForGiveUp(GiveUpRequest request, int allocated, long appliedVersion) =>
        request.LeaderVersion > appliedVersion ? request.Share : allocated;

    /// <summary>
    /// The version a server has applied after a give-up: the leader's version the request was made at. A sync of that
    /// version (the row before the give-up) is then ignored, and the leader's next commit is taken whether or not the
    /// leader heard the answer; a give-up whose answer came too late is counted by no one and only under-uses.
    /// </summary>
    public static long VersionAfterGiveUp(long appliedVersion, GiveUpRequest request) => Math.Max(appliedVersion, request.LeaderVersion);
}
