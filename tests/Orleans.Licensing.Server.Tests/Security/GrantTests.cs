using System.Net;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>Nobody mints seats: only grants signed by a trusted vendor key add codes or allocations, each once.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class GrantTests(PoolFixture pool)
{
    public static TheoryData<string, string> Forgeries() => new()
    {
        { "signed by a key the server never trusted", "grant-untrusted-key" },
        { "signed by a key trusted until yesterday", "grant-untrusted-key" },
        { "a payload byte changed after signing", "grant-signature" },
        { "a signature byte changed", "grant-signature" },
        { "the signature of another grant", "grant-signature" },
        { "another grant's key id written in", "grant-signature" },
        { "no signature", "grant-malformed" },
    };

    [Theory, MemberData(nameof(Forgeries)), Trait("Claim", "9")]
    public async Task Forged_and_tampered_allocation_grants_add_nothing(string forgery, string error)
    {
        var code = PoolFixture.NewCode();
        var before = await pool.AddLicenseAsync(code, 4);
        var grant = Forge(forgery, code);

        var answer = await pool.Http.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/allocations", $$"""{"grant":"{{grant}}"}""");

        AssertProblem(answer, error == "grant-malformed" ? HttpStatusCode.BadRequest : HttpStatusCode.Forbidden, error);
        Assert.Equal(before.ToJsonString(), (await pool.GetLicenseAsync(code)).ToJsonString());
    }

    [Theory, MemberData(nameof(Forgeries)), Trait("Claim", "11")]
    public async Task Forged_and_tampered_license_code_grants_add_no_code(string forgery, string error)
    {
        var code = PoolFixture.NewCode();
        var grant = Forge(forgery, code, licenseCode: true);

        var answer = await pool.Http.SendAsync(HttpMethod.Post, "api/v1/licenses", $$"""{"grant":"{{grant}}"}""");

        AssertProblem(answer, error == "grant-malformed" ? HttpStatusCode.BadRequest : HttpStatusCode.Forbidden, error);
        AssertProblem(await pool.Http.SendAsync(HttpMethod.Get, $"api/v1/licenses/{code}"), HttpStatusCode.NotFound, "unknown-license");
    }

    private static string Forge(string forgery, string code, bool licenseCode = false)
    {
        string Sign(Grants.VendorSigningKey? key = null, int amount = 1000) =>
            licenseCode ? TestSecurity.CodeGrant(code, amount, key: key) : TestSecurity.AllocationsGrant(code, amount, key: key);
        var parts = Sign().Split('.');
        switch (forgery)
        {
            case "signed by a key the server never trusted": return Sign(TestSecurity.UnknownVendor);
            case "signed by a key trusted until yesterday": return Sign(TestSecurity.RetiredVendor);
            case "a payload byte changed after signing":
                var payload = System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]);
                var text = System.Text.Encoding.UTF8.GetString(payload).Replace(":1000", ":9000");
                return $"{parts[0]}.{System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(text))}.{parts[2]}";
            case "a signature byte changed":
                var signature = System.Buffers.Text.Base64Url.DecodeFromChars(parts[2]);
                signature[7] ^= 0x01;
                return $"{parts[0]}.{parts[1]}.{System.Buffers.Text.Base64Url.EncodeToString(signature)}";
            case "the signature of another grant": return $"{parts[0]}.{parts[1]}.{Sign(amount: 1).Split('.')[2]}";
            case "another grant's key id written in":
                // An unknown vendor's grant relabelled with the trusted key id: the signature is checked under the trusted key.
                var foreign = Sign(TestSecurity.UnknownVendor).Split('.');
                var relabelled = System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(foreign[1])).Replace("unknown-vendor", "test-vendor");
                return $"{foreign[0]}.{System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(relabelled))}.{foreign[2]}";
            case "no signature": return $"{parts[0]}.{parts[1]}";
            default: throw new ArgumentOutOfRangeException(nameof(forgery));
        }
    }
}
