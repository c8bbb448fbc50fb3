namespace Orleans.Licensing;

/// <summary>
/// Who a lease belongs to, for administrators (what FlexNet's lmstat and RLM's rlmstat show as user@host): display
/// data the client says about itself, never counted and never trusted for a decision. Every part is optional; sizes
/// are <see cref="Limits.MaxOwnerPartLength"/>, and no part may hold control characters.
/// </summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.LeaseOwner")]
public sealed record LeaseOwner(
    [property: Id(0)] string? User = null,
    [property: Id(1)] string? Host = null,
    [property: Id(2)] string? DisplayName = null)
{
    /// <summary>Null when every part is empty: a lease without an owner stores nothing.</summary>
    public static LeaseOwner? Of(string? user, string? host, string? displayName) =>
        string.IsNullOrEmpty(user) && string.IsNullOrEmpty(host) && string.IsNullOrEmpty(displayName) ? null : new LeaseOwner(user, host, displayName);

    /// <summary>The first part that is too long or holds a control character, or null when all are fine.</summary>
    public string? Invalid() =>
        Bad(User) ? "user" : Bad(Host) ? "host" : Bad(DisplayName) ? "displayName" : null;

    private static bool Bad(string? part) =>
        part is not null && (part.Length > Limits.MaxOwnerPartLength || part.Any(char.IsControl));
}
