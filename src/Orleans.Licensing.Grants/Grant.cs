using System.Text.Json.Serialization;

namespace Orleans.Licensing.Grants;

/// <summary>
/// What a vendor signs: a new license code (<see cref="GrantKinds.LicenseCode"/>) or allocations added to one
/// (<see cref="GrantKinds.Allocations"/>). Servers accept a grant only if its signature verifies under a trusted vendor
/// key, and each <see cref="GrantId"/> once.
/// </summary>
/// <param name="PoolId">The pool the grant is for (<c>licensing pool</c> shows it); another pool refuses it.</param>
/// <param name="Seats">License code grants: the concurrent seats.</param>
/// <param name="Count">Allocations grants: how many allocations go to the free pool.</param>
/// <param name="ExpiresAt">
/// License code grants: when the license expires (optional). Allocations grants: the last moment the grant may be
/// applied, required and at most <see cref="GrantCodec.MaxApplyWindow"/> after <see cref="IssuedAt"/>.
/// </param>
public sealed record Grant(
    string Kind,
    string GrantId,
    string KeyId,
    string Code,
    DateTimeOffset IssuedAt,
    string? Product = null,
    int? Seats = null,
    int? Count = null,
    DateTimeOffset? ExpiresAt = null,
    string? PoolId = null)
{
    [JsonIgnore]
    public bool IsLicenseCode => Kind == GrantKinds.LicenseCode;

    public static Grant ForLicenseCode(string keyId, string poolId, string code, string product, int seats, DateTimeOffset issuedAt, DateTimeOffset? expiresAt = null, string? grantId = null) =>
        new(GrantKinds.LicenseCode, grantId ?? NewId(), keyId, code, issuedAt, Product: product, Seats: seats, ExpiresAt: expiresAt, PoolId: poolId);

    public static Grant ForAllocations(string keyId, string poolId, string code, int count, DateTimeOffset issuedAt, DateTimeOffset expiresAt, string? grantId = null) =>
        new(GrantKinds.Allocations, grantId ?? NewId(), keyId, code, issuedAt, Count: count, ExpiresAt: expiresAt, PoolId: poolId);

    private static string NewId() => Guid.NewGuid().ToString("N");
}

public static class GrantKinds
{
    public const string LicenseCode = "license-code";
    public const string Allocations = "allocations";
}
