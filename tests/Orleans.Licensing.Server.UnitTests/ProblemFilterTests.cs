using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Licensing.Server.Api;
using Orleans.Runtime;
using Orleans.Storage;

namespace Orleans.Licensing.Server.UnitTests;

/// <summary>
/// Issue 9, item 8: an Orleans failure that a retry or another server can get past reaches the REST layer as
/// 503 <c>unavailable</c> with Retry-After (the SDK retries and fails over), never as 500.
/// </summary>
public sealed class ProblemFilterTests
{
    public static TheoryData<string> TransientFailures() =>
        ["InconsistentStateException", "SiloUnavailableException", "OrleansMessageRejectionException", "TimeoutException", "LicensingException(unavailable)"];

    [Theory, MemberData(nameof(TransientFailures))]
    public async Task A_transient_Orleans_failure_is_503_unavailable_with_Retry_After(string failure)
    {
        var response = await InvokeAsync(failure switch
        {
            // What a stale leader activation throws when its write loses the ETag race (a leader fail-over).
            "InconsistentStateException" => new InconsistentStateException("stale activation", "etag-1", "etag-2"),
            "SiloUnavailableException" => new SiloUnavailableException("silo down"),
            // Its constructors are internal to Orleans.
            "OrleansMessageRejectionException" => (Exception)RuntimeHelpers.GetUninitializedObject(typeof(OrleansMessageRejectionException)),
            "TimeoutException" => new TimeoutException("response timed out"),
            _ => new LicensingException(LicensingErrors.Unavailable, "the store failed"),
        });

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, response.Status);
        Assert.Equal(Problems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), response.RetryAfter);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Equal("unavailable", response.Body.GetProperty("error").GetString());
        Assert.Equal(Problems.TypeBase + "unavailable", response.Body.GetProperty("type").GetString());
    }

    /// <summary>Orleans' messages name silo addresses, grain ids and message headers: none of it reaches a client.</summary>
    [Theory, MemberData(nameof(TransientFailures))]
    public async Task A_transient_failure_s_detail_is_a_fixed_text_not_the_exception_s(string failure)
    {
        const string inside = "Response did not arrive on time for message: Request [S127.0.0.1:11111:123 sys.client]->[S127.0.0.1:11112:456 ServerGrain/second/CAD-1] Orleans.Licensing.IServerGrain.Checkin";
        var response = await InvokeAsync(failure switch
        {
            "InconsistentStateException" => new InconsistentStateException(inside, "etag-1", "etag-2"),
            "SiloUnavailableException" => new SiloUnavailableException(inside),
            "OrleansMessageRejectionException" => (Exception)RuntimeHelpers.GetUninitializedObject(typeof(OrleansMessageRejectionException)),
            "TimeoutException" => new TimeoutException(inside),
            _ => new LicensingException(LicensingErrors.Unavailable, "The pool's store failed; try again or another server."),
        });

        var detail = response.Body.GetProperty("detail").GetString()!;
        Assert.DoesNotContain("S127.0.0.1", detail);
        Assert.DoesNotContain("ServerGrain", detail);
        Assert.DoesNotContain("Orleans.", detail);
        Assert.DoesNotContain("Exception", detail);
        Assert.False(string.IsNullOrWhiteSpace(detail));
    }

    [Fact]
    public async Task A_refusal_is_not_told_to_retry()
    {
        var response = await InvokeAsync(new LicensingException(LicensingErrors.NoAllocation, "no seat"));

        Assert.Equal(StatusCodes.Status409Conflict, response.Status);
        Assert.Null(response.RetryAfter);
    }

    private static async Task<(int Status, string? RetryAfter, string? ContentType, JsonElement Body)> InvokeAsync(Exception thrown)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Request.Path = "/api/v1/licenses/CAD-1/leases";
        http.Response.Body = new MemoryStream();
        var filter = new ProblemFilter(NullLogger<ProblemFilter>.Instance);

        var result = await filter.InvokeAsync(new DefaultEndpointFilterInvocationContext(http), _ => throw thrown);
        await Assert.IsAssignableFrom<IResult>(result).ExecuteAsync(http);

        http.Response.Body.Position = 0;
        var body = await JsonDocument.ParseAsync(http.Response.Body);
        return (http.Response.StatusCode, http.Response.Headers.RetryAfter.FirstOrDefault(), http.Response.ContentType?.Split(';')[0], body.RootElement.Clone());
    }
}
