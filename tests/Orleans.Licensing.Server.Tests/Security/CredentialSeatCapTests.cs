using System.Net;
using Orleans.Licensing.Server.Tests.Infrastructure;
using static Orleans.Licensing.Server.Tests.Infrastructure.Api;

namespace Orleans.Licensing.Server.Tests.Security;

/// <summary>
/// <c>MaxSeats</c> on a client key entry: one tenant's key cannot take the whole pool. Past the cap its checkout is a
/// denial (409 <c>credential-seat-cap</c>), not an error; a check-in makes room again; other keys are not held back.
/// </summary>
[Collection(PoolCollection.Name), Trait("Category", "Process"), Trait("Suite", "Security")]
public sealed class CredentialSeatCapTests(PoolFixture pool)
{
    [Fact]
    public async Task A_key_with_a_seat_cap_of_3_is_denied_its_4th_seat_until_it_checks_one_in()
    {
        var code = PoolFixture.NewCode("CAP");
        await pool.AddLicenseAsync(code, 10);
        using var capped = pool.Server.CreateHttpClient(TestRole.None);
        capped.DefaultRequestHeaders.Authorization = new("Bearer", TestSecurity.CappedKey);
        string Body(int i) => $$"""{"clientId":"{{TestSecurity.CappedPrefix}}{{i}}","count":1}""";

        var leases = new List<string>();
        for (var i = 0; i < TestSecurity.CappedSeats; i++)
        {
            var granted = await capped.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", Body(i));
            Assert.True(granted.Status == HttpStatusCode.Created, $"checkout {i}: {(int)granted.Status} {granted.Body?.ToJsonString()}");
            leases.Add((string)granted.Body!["leaseId"]!);
        }

        var table = (await pool.GetLicenseAsync(code)).ToJsonString();
        AssertProblem(await capped.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", Body(3)), HttpStatusCode.Conflict, "credential-seat-cap");
        Assert.Equal(table, (await pool.GetLicenseAsync(code)).ToJsonString());
        Assert.Equal(3, await pool.InUseAsync(code));

        // Another key is not held back by this one's cap.
        using var other = pool.Server.CreateHttpClient(TestRole.Client);
        Assert.Equal(HttpStatusCode.Created, (await other.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", """{"clientId":"uncapped-1","count":1}""")).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await capped.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{leases[0]}?clientId={TestSecurity.CappedPrefix}0")).Status);
        Assert.Equal(HttpStatusCode.Created, (await capped.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", Body(3))).Status);
        AssertProblem(await capped.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", Body(4)), HttpStatusCode.Conflict, "credential-seat-cap");

        // A checkout of 2 when 1 is left under the cap is denied too: the cap counts seats, not leases.
        Assert.Equal(HttpStatusCode.NoContent, (await capped.SendAsync(HttpMethod.Delete, $"api/v1/licenses/{code}/leases/{leases[1]}?clientId={TestSecurity.CappedPrefix}1")).Status);
        AssertProblem(await capped.SendAsync(HttpMethod.Post, $"api/v1/licenses/{code}/leases", $$"""{"clientId":"{{TestSecurity.CappedPrefix}}5","count":2}"""), HttpStatusCode.Conflict, "credential-seat-cap");
        Assert.Equal(2 + 1, await pool.InUseAsync(code));
    }
}
