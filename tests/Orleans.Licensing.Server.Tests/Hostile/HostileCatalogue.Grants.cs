using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Licensing.Server.Tests.Hostile;

/// <summary>Grant payloads and the grants the fixture applies (so that replaying them can be tried).</summary>
public static class HostileGrants
{
    public const string GrantMalformed = "grant-malformed", GrantSignature = "grant-signature", GrantUntrusted = "grant-untrusted-key",
        GrantExpired = "grant-expired", GrantReplayed = "grant-replayed", GrantMismatch = "grant-mismatch", GrantWrongPool = "grant-wrong-pool";

    public static string CodePayload(string code, int seats, string? grantId = null, string? keyId = null, DateTimeOffset? expiresAt = null,
        Action<JsonObject>? edit = null)
    {
        var payload = new JsonObject
        {
            ["kind"] = "license-code", ["grantId"] = grantId ?? $"hostile-{code}-{seats}-{Guid.NewGuid():N}", ["keyId"] = keyId ?? HostileSecurity.VendorKeyId,
            ["code"] = code, ["product"] = "Hostile product", ["seats"] = seats, ["issuedAt"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O"),
            ["poolId"] = HostileSecurity.PoolId,
        };
        if (expiresAt is { } e) payload["expiresAt"] = e.ToString("O");
        edit?.Invoke(payload);
        return payload.ToJsonString();
    }

    public static string AllocationsPayload(string code, int count, string? grantId = null, string? keyId = null, DateTimeOffset? expiresAt = null,
        Action<JsonObject>? edit = null)
    {
        var payload = new JsonObject
        {
            ["kind"] = "allocations", ["grantId"] = grantId ?? $"hostile-alloc-{code}-{Guid.NewGuid():N}", ["keyId"] = keyId ?? HostileSecurity.VendorKeyId,
            ["code"] = code, ["count"] = count, ["issuedAt"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O"),
            ["poolId"] = HostileSecurity.PoolId, ["expiresAt"] = (expiresAt ?? DateTimeOffset.UtcNow.AddDays(1)).ToString("O"),
        };
        edit?.Invoke(payload);
        return payload.ToJsonString();
    }

    /// <summary>The license-code grants the fixture adds its codes with (replaying one is refused).</summary>
    public static readonly Lazy<IReadOnlyDictionary<string, string>> SeededCodes = new(() => new Dictionary<string, string>
    {
        [HostileFixture.CodeA] = HostileSecurity.Sign(CodePayload(HostileFixture.CodeA, 10, "hostile-seed-a")),
        [HostileFixture.CodeB] = HostileSecurity.Sign(CodePayload(HostileFixture.CodeB, 4, "hostile-seed-b")),
        [HostileFixture.CodeC] = HostileSecurity.Sign(CodePayload(HostileFixture.CodeC, 3, "hostile-seed-c")),
    });

    /// <summary>Adds B's fifth seat while seeding.</summary>
    public static readonly Lazy<string> SeededAllocations = new(() => HostileSecurity.Sign(AllocationsPayload(HostileFixture.CodeB, 1, "hostile-seed-b-alloc")));

    public static string B64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] FromB64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    /// <summary>The grant with its payload replaced (the signature stays: it no longer verifies).</summary>
    public static string WithPayload(string grant, string payloadJson)
    {
        var parts = grant.Split('.');
        return $"{parts[0]}.{B64Url(Encoding.UTF8.GetBytes(payloadJson))}.{parts[2]}";
    }

    /// <summary>The grant with one byte of its signature flipped.</summary>
    public static string FlipSignatureByte(string grant)
    {
        var parts = grant.Split('.');
        var signature = FromB64Url(parts[2]);
        signature[signature.Length / 2] ^= 0x01;
        return $"{parts[0]}.{parts[1]}.{B64Url(signature)}";
    }

    /// <summary>The grant with one byte of its (decoded) payload flipped: its last digit, so that the JSON stays valid.</summary>
    public static string FlipPayloadByte(string grant)
    {
        var parts = grant.Split('.');
        var payload = FromB64Url(parts[1]);
        var last = Array.FindLastIndex(payload, b => b is >= (byte)'0' and <= (byte)'9');
        payload[last] ^= 0x01;
        return $"{parts[0]}.{B64Url(payload)}.{parts[2]}";
    }

    /// <summary>A well-formed grant whose signature is <paramref name="signature"/>.</summary>
    public static string Forged(string payloadJson, byte[] signature) => $"olg1.{B64Url(Encoding.UTF8.GetBytes(payloadJson))}.{B64Url(signature)}";

    public static string Body(string grant) => new JsonObject { ["grant"] = grant }.ToJsonString();
}

public static partial class HostileCatalogue
{
    private static HostileCase G(string name, string path, int status, string error, Func<string> grant) =>
        new(name, Post, path, Cred.Admin, status, error, () => Encoding.UTF8.GetBytes(HostileGrants.Body(grant())), H.Json, Needs: Needs.Grants);

    private static HostileCase GRaw(string name, string path, int status, string error, string body) =>
        new(name, Post, path, Cred.Admin, status, error, H.Utf8(body), H.Json, Needs: Needs.Grants);

    /// <summary>Forged, tampered, expired, wrong-key, unknown-key, wrong-kind, mismatched and replayed grants.</summary>
    private static IEnumerable<HostileCase> Grants()
    {
        const string malformed = HostileGrants.GrantMalformed, signature = HostileGrants.GrantSignature, untrusted = HostileGrants.GrantUntrusted,
            expired = HostileGrants.GrantExpired, replayed = HostileGrants.GrantReplayed, mismatch = HostileGrants.GrantMismatch,
            wrongPool = HostileGrants.GrantWrongPool;
        var newCode = "HOSTILE-NEW";
        string Fresh() => HostileGrants.CodePayload(newCode, 1000);
        string FreshAllocations(string code = HostileFixture.CodeA) => HostileGrants.AllocationsPayload(code, 1000);
        string Signed(string payload) => HostileSecurity.Sign(payload);
        var targets = new[] { ("add-code", Licenses, (Func<string>)Fresh), ("allocations", Allocations, () => FreshAllocations()) };

        foreach (var (kind, path, payload) in targets)
        {
            // Not a grant at all.
            yield return G($"grant.empty.{kind}", path, 400, malformed, () => "");
            yield return G($"grant.no-dots.{kind}", path, 400, malformed, () => "olg1");
            yield return G($"grant.prefix-only.{kind}", path, 400, malformed, () => "olg1.");
            yield return G($"grant.empty-parts.{kind}", path, 400, malformed, () => "olg1..");
            yield return G($"grant.wrong-version.{kind}", path, 400, malformed, () => "olg2" + Signed(payload())[4..]);
            yield return G($"grant.upper-prefix.{kind}", path, 400, malformed, () => "OLG1" + Signed(payload())[4..]);
            yield return G($"grant.two-parts.{kind}", path, 400, malformed, () => string.Join('.', Signed(payload()).Split('.')[..2]));
            yield return G($"grant.four-parts.{kind}", path, 400, malformed, () => Signed(payload()) + ".AAAA");
            yield return G($"grant.payload-not-base64url.{kind}", path, 400, malformed, () => "olg1.!!!*.AAAA");
            yield return G($"grant.signature-not-base64url.{kind}", path, 400, malformed, () => Signed(payload()).Split('.')[..2] is var p ? $"{p[0]}.{p[1]}.***" : "");
            yield return G($"grant.signature-short.{kind}", path, 403, signature, () => HostileGrants.Forged(payload(), new byte[10]));
            yield return G($"grant.signed-payload-not-json.{kind}", path, 400, malformed, () => Signed("not json"));
            yield return G($"grant.signed-payload-array.{kind}", path, 400, malformed, () => Signed("[]"));
            yield return G($"grant.signed-unknown-kind.{kind}", path, 400, malformed, () => Signed(HostileGrants.CodePayload(newCode, 5, edit: p => p["kind"] = "master-key")));
            // Signed by the trusted key, but for another pool, or for none.
            yield return G($"grant.other-pool.{kind}", path, 403, wrongPool, () => Signed(kind == "add-code"
                ? HostileGrants.CodePayload(newCode, 1000, edit: p => p["poolId"] = "pool-of-someone-else") : HostileGrants.AllocationsPayload(HostileFixture.CodeA, 1000, edit: p => p["poolId"] = "pool-of-someone-else")));
            yield return G($"grant.no-pool.{kind}", path, 400, malformed, () => Signed(kind == "add-code"
                ? HostileGrants.CodePayload(newCode, 1000, edit: p => p.Remove("poolId")) : HostileGrants.AllocationsPayload(HostileFixture.CodeA, 1000, edit: p => p.Remove("poolId"))));
            yield return G($"grant.signed-missing-grant-id.{kind}", path, 400, malformed, () => Signed(HostileGrants.AllocationsPayload(HostileFixture.CodeA, 1, edit: p => p.Remove("grantId"))));
            yield return G($"grant.huge-10k.{kind}", path, 400, malformed, () => "olg1." + new string('A', 10_240) + ".AAAA");
            yield return GRaw($"grant.number.{kind}", path, 400, Invalid, """{"grant":5}""");
            yield return GRaw($"grant.null.{kind}", path, 400, malformed, """{"grant":null}""");
            yield return GRaw($"grant.missing.{kind}", path, 400, malformed, """{"code":"HOSTILE-NEW","product":"P","seats":1000,"count":1000}""");
            yield return GRaw($"grant.array.{kind}", path, 400, Invalid, """{"grant":["olg1.e30.AAAA"]}""");

            // Well-formed, but not signed by a trusted key over exactly these bytes.
            yield return G($"grant.forged-random-signature.{kind}", path, 403, signature, () => HostileGrants.Forged(payload(), System.Security.Cryptography.RandomNumberGenerator.GetBytes(64)));
            yield return G($"grant.forged-zero-signature.{kind}", path, 403, signature, () => HostileGrants.Forged(payload(), new byte[64]));
            yield return G($"grant.tampered-payload-byte.{kind}", path, 403, signature, () => HostileGrants.FlipPayloadByte(Signed(payload())));
            yield return G($"grant.tampered-signature-byte.{kind}", path, 403, signature, () => HostileGrants.FlipSignatureByte(Signed(payload())));
            yield return G($"grant.signature-of-other-payload.{kind}", path, 403, signature, () => HostileGrants.WithPayload(Signed(HostileGrants.CodePayload(newCode, 1)), payload()));
            yield return G($"grant.wrong-key.{kind}", path, 403, signature, () => HostileSecurity.SignWithUntrustedKey(payload()));
            yield return G($"grant.retired-key.{kind}", path, 403, untrusted, () => HostileSecurity.SignWithRetiredKey(kind == "add-code"
                ? HostileGrants.CodePayload(newCode, 1000, keyId: HostileSecurity.RetiredKeyId) : HostileGrants.AllocationsPayload(HostileFixture.CodeA, 1000, keyId: HostileSecurity.RetiredKeyId)));
            yield return G($"grant.unknown-key-id.{kind}", path, 403, untrusted, () => Signed(kind == "add-code"
                ? HostileGrants.CodePayload(newCode, 1000, keyId: "no-such-key") : HostileGrants.AllocationsPayload(HostileFixture.CodeA, 1000, keyId: "no-such-key")));
        }

        // Add-code: an expired license, an allocations grant, a code that exists, a replayed grant.
        yield return G("grant.expired-license.add-code", Licenses, 403, expired, () => Signed(HostileGrants.CodePayload(newCode, 5, expiresAt: DateTimeOffset.UtcNow.AddDays(-1))));
        yield return G("grant.allocations-kind.add-code", Licenses, 400, mismatch, () => Signed(HostileGrants.AllocationsPayload(newCode, 5)));
        yield return G("grant.existing-code-more-seats.add-code", Licenses, 409, Conflict, () => Signed(HostileGrants.CodePayload(HostileFixture.CodeA, 1000)));
        yield return G("grant.replayed.add-code", Licenses, 409, replayed, () => HostileGrants.SeededCodes.Value[HostileFixture.CodeA]);
        yield return G("grant.signed-zero-seats.add-code", Licenses, 400, malformed, () => Signed(HostileGrants.CodePayload(newCode, 0)));
        yield return G("grant.signed-negative-seats.add-code", Licenses, 400, malformed, () => Signed(HostileGrants.CodePayload(newCode, -5)));
        yield return G("grant.signed-seats-string.add-code", Licenses, 400, malformed, () => Signed(HostileGrants.CodePayload(newCode, 5, edit: p => p["seats"] = "5")));
        yield return G("grant.signed-seats-huge.add-code", Licenses, 400, malformed, () => Signed(HostileGrants.CodePayload(newCode, 5, edit: p => p["seats"] = 1e12)));
        yield return G("grant.signed-missing-code.add-code", Licenses, 400, malformed, () => Signed(HostileGrants.CodePayload(newCode, 5, edit: p => p.Remove("code"))));
        yield return G("grant.signed-slash-code.add-code", Licenses, 400, malformed, () => Signed(HostileGrants.CodePayload("A/../B", 5)));

        // Add-allocations: expired, wrong kind, another code's grant, a code nobody has, replayed, bad counts.
        yield return G("grant.expired.allocations", Allocations, 403, expired, () => Signed(HostileGrants.AllocationsPayload(HostileFixture.CodeA, 5, expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1))));
        yield return G("grant.code-kind.allocations", Allocations, 400, mismatch, () => Signed(HostileGrants.CodePayload(HostileFixture.CodeA, 1000)));
        yield return G("grant.other-code.allocations", Allocations, 400, mismatch, () => Signed(HostileGrants.AllocationsPayload(HostileFixture.CodeB, 5)));
        yield return G("grant.replayed.allocations", Licenses + "/" + HostileFixture.CodeB + "/allocations", 409, replayed, () => HostileGrants.SeededAllocations.Value);
        yield return G("grant.replayed-on-other-code.allocations", Allocations, 400, mismatch, () => HostileGrants.SeededAllocations.Value);
        yield return G("grant.unknown-code.allocations", Licenses + "/NO-SUCH-CODE/allocations", 404, UnknownLicense, () => Signed(HostileGrants.AllocationsPayload("NO-SUCH-CODE", 5)));
        yield return G("grant.signed-zero-count.allocations", Allocations, 400, malformed, () => Signed(HostileGrants.AllocationsPayload(HostileFixture.CodeA, 0)));
        yield return G("grant.signed-negative-count.allocations", Allocations, 400, malformed, () => Signed(HostileGrants.AllocationsPayload(HostileFixture.CodeA, -1000)));
        yield return G("grant.signed-count-float.allocations", Allocations, 400, malformed, () => Signed(HostileGrants.AllocationsPayload(HostileFixture.CodeA, 1, edit: p => p["count"] = 1.5)));
        yield return G("grant.no-expiry.allocations", Allocations, 400, malformed, () => Signed(HostileGrants.AllocationsPayload(HostileFixture.CodeA, 5, edit: p => p.Remove("expiresAt"))));
        yield return G("grant.apply-window-too-long.allocations", Allocations, 400, malformed, () => Signed(HostileGrants.AllocationsPayload(HostileFixture.CodeA, 5, expiresAt: DateTimeOffset.UtcNow.AddDays(400))));
        yield return GRaw("grant.legacy-count-body.allocations", Allocations, 400, malformed, """{"count":5}""");
    }
}
