namespace Orleans.Licensing.Tests.Grants;

/// <summary>
/// A real Orleans client (the test cluster's, as anyone who reaches the gateway port) calls the leader and a server
/// grain directly: without a grant signed by a trusted key, for this code and this pool, nothing is added.
/// </summary>
[Collection(PoolCollection.Name)]
public sealed class GatewayGrantTests(PoolFixture fixture)
{
    private readonly PoolCluster _pool = fixture.Pool;

    public static TheoryData<string, string> BadAllocations => new()
    {
        { "empty", LicensingErrors.GrantMalformed },
        { "decoded", LicensingErrors.GrantMalformed },
        { "unsigned", LicensingErrors.GrantMalformed },
        { "zero-signature", LicensingErrors.GrantSignature },
        { "tampered", LicensingErrors.GrantSignature },
        { "untrusted", LicensingErrors.GrantUntrustedKey },
        { "other-code", LicensingErrors.GrantMismatch },
        { "code-kind", LicensingErrors.GrantMismatch },
        { "other-pool", LicensingErrors.GrantWrongPool },
        { "no-pool", LicensingErrors.GrantMalformed },
    };

    private async Task<string> GrantAsync(string kind, string code)
    {
        var poolId = await _pool.PoolIdAsync();
        var good = TestGrants.Allocations(poolId, code, 99_000_000);
        var parts = good.Split('.');
        var now = DateTimeOffset.UtcNow;
        return kind switch
        {
            "empty" => "",
            // What the messages used to carry: the decoded fields, without a signature.
            "decoded" => System.Text.Json.JsonSerializer.Serialize(new { code, count = 99_000_000, grantId = "made-up" }),
            "unsigned" => $"{parts[0]}.{parts[1]}",
            "zero-signature" => $"{parts[0]}.{parts[1]}.{System.Buffers.Text.Base64Url.EncodeToString(new byte[64])}",
            "tampered" => $"{parts[0]}.{System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(
                System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1])).Replace("99000000", "99000001")))}.{parts[2]}",
            "untrusted" => TestGrants.Allocations(poolId, code, 5, TestGrants.Untrusted),
            "other-code" => TestGrants.Allocations(poolId, "another-code", 5),
            "code-kind" => TestGrants.Code(poolId, code, 5),
            "other-pool" => TestGrants.Allocations("pool-someone-else", code, 5),
            "no-pool" => TestGrants.SignPayload(System.Text.Json.JsonSerializer.Serialize(new
                { kind = "allocations", grantId = Guid.NewGuid().ToString("N"), keyId = TestGrants.Vendor.KeyId, code, count = 5, issuedAt = now, expiresAt = now.AddDays(1) }), TestGrants.Vendor),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [MemberData(nameof(BadAllocations))]
    public async Task An_allocations_grant_that_is_not_signed_for_this_code_and_pool_adds_nothing(string kind, string error)
    {
        var code = PoolCluster.NewCode();
        await _pool.AddCodeAsync(code, 6, _pool.ServerIds[0]);
        var before = await _pool.DistributionAsync(code);
        var grant = await GrantAsync(kind, code);

        var refused = await Assert.ThrowsAsync<LicensingException>(() => _pool.Pool(code).AddAllocations(new AddAllocations(code, grant)));
        Assert.Equal(error, refused.Error);
        refused = await Assert.ThrowsAsync<LicensingException>(() => _pool.Server(_pool.ServerIds[1], code).AddAllocations(new AddAllocations(code, grant)));
        Assert.Equal(error, refused.Error);

        var after = await _pool.DistributionAsync(code);
        Assert.Equal((before.Total, before.FreePool, before.Version), (after.Total, after.FreePool, after.Version));
    }

    [Fact]
    public async Task A_license_code_grant_that_is_not_signed_for_this_pool_adds_no_code()
    {
        var code = PoolCluster.NewCode();
        var poolId = await _pool.PoolIdAsync();
        var good = TestGrants.Code(poolId, code, 1000);
        var parts = good.Split('.');
        var cases = new (string Grant, string Error)[]
        {
            ("", LicensingErrors.GrantMalformed),
            ($"{parts[0]}.{parts[1]}.{System.Buffers.Text.Base64Url.EncodeToString(new byte[64])}", LicensingErrors.GrantSignature),
            (TestGrants.Code(poolId, code, 1000, key: TestGrants.Untrusted), LicensingErrors.GrantUntrustedKey),
            (TestGrants.Code("pool-someone-else", code, 1000), LicensingErrors.GrantWrongPool),
            (TestGrants.Code(poolId, code, 1000, expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1)), LicensingErrors.GrantExpired),
            (TestGrants.Allocations(poolId, code, 1000), LicensingErrors.GrantMismatch),
            (TestGrants.Code(poolId, "another-code", 1000), LicensingErrors.GrantMismatch),
        };
        foreach (var (grant, error) in cases)
        {
            var refused = await Assert.ThrowsAsync<LicensingException>(() => _pool.Pool(code).AddLicenseCode(new AddLicenseCode(grant)));
            Assert.Equal(error, refused.Error);
            refused = await Assert.ThrowsAsync<LicensingException>(() => _pool.Server(_pool.ServerIds[2], code).AddLicenseCode(new AddLicenseCode(grant)));
            Assert.Equal(error, refused.Error);
        }

        Assert.Null(await _pool.Pool(code).GetDistribution());
        Assert.DoesNotContain(code, await _pool.Grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes());
    }

    [Fact]
    public async Task Distribution_criteria_cannot_add_seats()
    {
        var code = PoolCluster.NewCode();
        var servers = _pool.ServerIds;
        await _pool.AddCodeAsync(code, 6, servers[0]);
        var before = await _pool.DistributionAsync(code);
        var refused = await Assert.ThrowsAsync<LicensingException>(() => _pool.Pool(code).ChangeDistributionCriteria(new ChangeDistributionCriteria(code,
            new DistributionCriteria(Shares: new Dictionary<string, int> { [servers[0]] = 1000, [servers[1]] = 1000 }))));
        Assert.Equal(LicensingErrors.InvalidRequest, refused.Error);
        var after = await _pool.DistributionAsync(code);
        Assert.Equal((before.Total, before.FreePool, before.Version), (after.Total, after.FreePool, after.Version));
    }

    [Fact]
    public async Task The_pool_id_is_made_once_and_survives_the_catalog_reactivating()
    {
        var first = await _pool.PoolIdAsync();
        Assert.StartsWith("pool-", first);
        await _pool.Cluster.DeactivateAsync(_pool.Grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key));
        Assert.Equal(first, await _pool.PoolIdAsync());
    }
}
