using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Orleans.Licensing.Server.Tests.Hostile;

/// <summary>
/// Issue 10's hostile-input suite: every kind of <see cref="HostileCatalogue"/> against one real seeded server. Each
/// is answered with a 4xx problem of its stable type and leaves the pool's table and every live lease as seeded.
/// </summary>
[Collection(HostileCollection.Name), Trait("Suite", "Hostile"), Trait("Category", "Process")]
public sealed class HostileInputTests(HostileFixture fixture, ITestOutputHelper output)
{
    private const string ProblemBase = "https://orleans-licensing.dev/problems/";

    public static TheoryData<string> Runnable => Names(HostileCatalogue.All.Where(c => (c.Needs & ~HostileSecurity.Available) == 0));

    [Theory, MemberData(nameof(Runnable))]
    public async Task Is_refused_with_a_stable_problem_and_changes_nothing(string name)
    {
        var kind = HostileCatalogue.ByName[name];
        var before = await fixture.LastSnapshotAsync();
        var (status, contentType, body) = await SendAsync(kind);
        output.WriteLine($"{kind.Method} {Shorten(kind.Path)} -> {status} {contentType} {Shorten(body)}");

        Assert.True(status == kind.Status, $"{name}: expected {kind.Status} {kind.Error}, got {status}: {Shorten(body)}");
        if (kind.ProblemBody)
        {
            Assert.Equal("application/problem+json", contentType);
            if (kind.Method != HttpMethod.Head)
            {
                var problem = JsonNode.Parse(body)!;
                Assert.Equal(ProblemBase + kind.Error, (string?)problem["type"]);
                Assert.Equal(kind.Error, (string?)problem["error"]);
                Assert.Equal(status, (int)problem["status"]!);
            }
        }

        // Compared with the state just before this case (so one failure does not fail all later ones) and with the seeded one.
        var after = await fixture.SnapshotAsync();
        Assert.True(before == after, $"{name} changed the pool:\n{Diff(before, after)}");
        Assert.True(fixture.Baseline == after, $"The pool differs from the seeded one (changed by an earlier case):\n{Diff(fixture.Baseline, after)}");
    }

    [Fact]
    public void The_catalogue_has_at_least_200_distinct_kinds()
    {
        var all = HostileCatalogue.All;
        foreach (var group in all.GroupBy(c => c.Name.Split('.')[0]).OrderBy(g => g.Key, StringComparer.Ordinal))
            output.WriteLine($"{group.Key}: {group.Count()}");
        output.WriteLine($"kinds: {all.Count}, runnable now: {all.Count(c => (c.Needs & ~HostileSecurity.Available) == 0)}");
        Assert.Equal(all.Count, all.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count());
        var same = all.GroupBy(c => c.Fingerprint(), StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => string.Join(" = ", g.Select(c => c.Name))).ToList();
        Assert.True(same.Count == 0, "Kinds that send the same request: " + string.Join("; ", same));
        Assert.All(all, c => Assert.InRange(c.Status, 400, 499));
        Assert.True(all.Count >= 200, $"only {all.Count} kinds");
        Assert.All(all, c => Assert.True((c.Needs & ~HostileSecurity.Available) == 0, $"{c.Name} needs a part that is not there"));
    }

    private async Task<(int Status, string? ContentType, string Body)> SendAsync(HostileCase kind)
    {
        // The path goes out exactly as written: no dot-segment removal or unescaping by System.Uri.
        var uri = new Uri(fixture.Server.Url + kind.Path.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(kind.Method, uri);
        if (kind.Body is not null)
        {
            var chunked = kind.Headers?.Any(h => h.Key == "Transfer-Encoding") == true;
            request.Content = chunked ? new ChunkedContent(kind.Body()) : new ByteArrayContent(kind.Body());
            if (kind.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", kind.ContentType);
        }
        else if (kind.ContentType is not null)
        {
            request.Content = new ByteArrayContent([]);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", kind.ContentType);
        }

        foreach (var (header, value) in kind.Headers ?? [])
        {
            if (header == "Transfer-Encoding") continue;
            if (!request.Headers.TryAddWithoutValidation(header, value)) request.Content?.Headers.TryAddWithoutValidation(header, value);
        }

        HttpResponseMessage response;
        try
        {
            response = await fixture.Http(kind.Cred).SendAsync(request);
        }
        catch (HttpRequestException e) when (fixture.Server.HasExited)
        {
            throw new InvalidOperationException($"The server exited ({fixture.Server.ExitCode}):\n{fixture.ServerLogTail()}", e);
        }

        using var _ = response;
        var body = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
    }

    private static TheoryData<string> Names(IEnumerable<HostileCase> cases)
    {
        var data = new TheoryData<string>();
        foreach (var c in cases) data.Add(c.Name);
        if (data.Count == 0) data.Add(HostileCatalogue.All[0].Name);   // xunit refuses a theory without data
        return data;
    }

    private static string Diff(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        return string.Join("\n", Enumerable.Range(0, Math.Max(e.Length, a.Length))
            .Where(i => i >= e.Length || i >= a.Length || e[i] != a[i])
            .Select(i => $"- {(i < e.Length ? e[i] : "")}\n+ {(i < a.Length ? a[i] : "")}"));
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length > 300 ? text[..300] + $"... ({text.Length} chars)" : text;

    /// <summary>A body of unknown length: sent chunked, without Content-Length.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
