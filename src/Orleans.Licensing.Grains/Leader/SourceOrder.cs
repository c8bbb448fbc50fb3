namespace Orleans.Licensing;

/// <summary>
/// Where the leader looks for allocations, in order, for each reason a server borrows (claims 5, 14, 15, 19, 28, 29).
/// Other live servers come last: for a checkout they give idle allocations (claim 32 at the moment demand needs it), for
/// a fail-over update their unused ones.
/// </summary>
internal static class SourceOrder
{
    public static readonly IReadOnlyList<SourceKind> ClientRequest = [SourceKind.FreePool, SourceKind.DownServer, SourceKind.LeaderServer, SourceKind.LiveServer];

    public static readonly IReadOnlyList<SourceKind> FailoverUpdate = [SourceKind.LeaderServer, SourceKind.FreePool, SourceKind.DownServer, SourceKind.LiveServer];

    public static IReadOnlyList<SourceKind> For(BorrowReason reason) => reason == BorrowReason.ClientRequest ? ClientRequest : FailoverUpdate;

    /// <summary>How much another live server keeps when it gives to this borrow.</summary>
    public static GiveUpMode LiveServerMode(BorrowReason reason) => reason == BorrowReason.ClientRequest ? GiveUpMode.Idle : GiveUpMode.Unused;
}
