namespace Orleans.Licensing;

/// <summary>A fail-over adoption the leader recorded: the lease moved from its holder to the adopter (claims 13, 27).</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.Adoption")]
public sealed record Adoption(
    [property: Id(0)] string OriginServerId,
    [property: Id(1)] string AdopterServerId,
    [property: Id(2)] DateTimeOffset ExpiresAt,
    [property: Id(3)] string? ClientId = null,
    [property: Id(4)] int Count = 0)
{
    /// <summary>Whether a fail-over update is for this very lease (same client, same count).</summary>
    public bool Matches(AdoptedLease update) => ClientId == update.ClientId && Count == update.Count;
}
