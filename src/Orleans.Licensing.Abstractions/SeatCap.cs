namespace Orleans.Licensing;

/// <summary>
/// A credential's seat cap (<c>MaxSeats</c> of a client key): at one server, the live leases of the client ids it covers
/// hold at most <see cref="MaxSeats"/> seats of a code. Counted by that server's grain, where checkouts are granted.
/// </summary>
/// <param name="ClientIds">The credential's client ids: an exact id or a prefix ending in '*'.</param>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.SeatCap")]
public sealed record SeatCap(
    [property: Id(0)] string CredentialId,
    [property: Id(1)] IReadOnlyList<string> ClientIds,
    [property: Id(2)] int MaxSeats)
{
    public bool Covers(string clientId) =>
        ClientIds.Any(p => p.EndsWith('*') ? clientId.StartsWith(p[..^1], StringComparison.Ordinal) : p == clientId);

    /// <summary>Whether <paramref name="count"/> more seats fit beside the <paramref name="held"/> seats its client ids hold.</summary>
    public bool Fits(int held, int count) => (long)held + count <= MaxSeats;
}
