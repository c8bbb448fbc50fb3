using System.Text.Json.Nodes;

namespace Orleans.Licensing.Server.Tests.Infrastructure.Faults;

/// <summary>
/// The innermost handler of an SDK client's HttpClient: records every lease request as it goes on the wire (one per
/// attempt, per server), with the answer the SDK then turns into a renewal, a retry or a loss. The SDK hides which
/// server refused what; this does not.
/// </summary>
public sealed class WireObserver(LeaseLedger ledger, Func<Uri, string> serverOf) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri!.AbsolutePath;
        var leases = path.IndexOf("/leases", StringComparison.Ordinal);
        if (leases < 0) return await base.SendAsync(request, cancellationToken);

        var sent = ledger.Now;
        var leaseId = path.Length > leases + "/leases/".Length ? Uri.UnescapeDataString(path[(leases + "/leases/".Length)..]) : null;
        string? named = null;
        if (request.Method == HttpMethod.Put && request.Content is not null)
        {
            named = (string?)JsonNode.Parse(await request.Content.ReadAsStringAsync(cancellationToken))?["serverId"];
        }
        else if (request.Method == HttpMethod.Post && request.Content is not null)
        {
            leaseId = (string?)JsonNode.Parse(await request.Content.ReadAsStringAsync(cancellationToken))?["leaseId"];
        }

        var target = serverOf(request.RequestUri);
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            string? error = null;
            if (!response.IsSuccessStatusCode)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);   // the SDK reads the problem again
                error = ErrorOf(await response.Content.ReadAsStringAsync(cancellationToken));
            }

            ledger.Answered(new WireAnswer(sent, ledger.Now, request.Method.Method, leaseId, target, named, (int)response.StatusCode, error, null));
            return response;
        }
        catch (Exception e)
        {
            var kind = e is HttpRequestException h ? $"{nameof(HttpRequestException)}({h.HttpRequestError})" : e.GetType().Name;
            ledger.Answered(new WireAnswer(sent, ledger.Now, request.Method.Method, leaseId, target, named, null, null, kind));
            throw;
        }
    }

    private static string? ErrorOf(string body)
    {
        try
        {
            return body.Length == 0 ? null : (string?)JsonNode.Parse(body)?["error"];
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
