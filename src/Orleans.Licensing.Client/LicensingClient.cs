using System.Net.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace Orleans.Licensing.Client;

/// <summary>
/// Talks to the pool through any of its license servers (claim 1): the first one of the list that answers serves the
/// request. <see cref="AcquireAsync"/> returns a lease that renews itself and fails over on its own.
/// </summary>
public sealed partial class LicensingClient(
    IHttpClientFactory httpClients,
    IOptions<LicensingClientOptions> options,
    TimeProvider time,
    ILogger<LicensingClient> logger)
{
    public const string HttpClientName = "Orleans.Licensing";

    internal LicensingClientOptions Options { get; } = Validated(options.Value);
    internal TimeProvider Time => time;
    internal ILogger Logger => logger;

    /// <summary>Checks out <paramref name="count"/> allocations of <paramref name="code"/> and keeps the lease alive until disposed.</summary>
    /// <exception cref="LicensingProblemException">Refused: e.g. <c>no-allocation</c> or <c>unknown-license</c>.</exception>
    /// <exception cref="LicensingUnavailableException">No server answered.</exception>
    public async Task<LicenseLease> AcquireAsync(string code, int count = 1, CancellationToken cancellationToken = default)
    {
        // Our own lease id makes a retried checkout safe: the server grants it once.
        var body = new CheckoutBody(Options.ClientId, count, Guid.NewGuid().ToString("N"), Options.User, Options.Host, Options.DisplayName);
        var sent = time.GetTimestamp();
        var (lease, server) = await OnAnyServerAsync(
            (api, s, ct) => api.SendAsync<LeaseInfo>(s, HttpMethod.Post, LeasesPath(code), body, ct), null, idempotent: true, cancellationToken);
        LogAcquired(lease.LeaseId, code, count, lease.ServerId);
        return new LicenseLease(this, lease, server, sent);
    }

    /// <summary>Adds a license code from its signed grant; safe to retry anywhere, since a grant applies once.</summary>
    public Task<LicenseInfo> AddLicenseAsync(AddLicenseRequest request, CancellationToken cancellationToken = default) =>
        ApplyGrantAsync(GrantCode(request.Grant), "api/v1/licenses", request, cancellationToken);

    /// <param name="grant">The vendor-signed allocations grant; it applies once, so a retry cannot add twice.</param>
    public Task<LicenseInfo> AddAllocationsAsync(string code, string grant, CancellationToken cancellationToken = default) =>
        ApplyGrantAsync(code, $"{LicensePath(code)}/allocations", new AddAllocationsBody(grant), cancellationToken);

    /// <summary>
    /// Sends a grant to the first server that answers. When an earlier attempt may have reached a server, a later
    /// "grant-replayed" means that attempt applied the grant and only its answer was lost: the license as it is now is
    /// the answer.
    /// </summary>
    private Task<LicenseInfo> ApplyGrantAsync(string? code, string path, object body, CancellationToken cancellationToken)
    {
        var mayHaveReached = false;
        return AnyAsync(async (api, s, ct) =>
        {
            try
            {
                return await api.SendAsync<LicenseInfo>(s, HttpMethod.Post, path, body, ct);
            }
            catch (LicensingProblemException e) when (mayHaveReached && e.Error == "grant-replayed" && code is not null)
            {
                return await api.SendAsync<LicenseInfo>(s, HttpMethod.Get, LicensePath(code), null, ct);
            }
            catch (Exception e) when (e is not LicensingProblemException and not HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
            {
                mayHaveReached = true;
                throw;
            }
        }, idempotent: true, cancellationToken);
    }

    /// <summary>The code a license code grant names (its payload is Base64url JSON), for the answer after a lost reply.</summary>
    private static string? GrantCode(string grant)
    {
        var parts = grant.Split('.');
        if (parts.Length != 3) return null;
        try
        {
            using var payload = System.Text.Json.JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]));
            return payload.RootElement.TryGetProperty("code", out var code) ? code.GetString() : null;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    public Task<LicenseInfo> SetDistributionAsync(string code, DistributionRequest criteria, CancellationToken cancellationToken = default) =>
        AnyAsync((api, s, ct) => api.SendAsync<LicenseInfo>(s, HttpMethod.Put, $"{LicensePath(code)}/distribution", criteria, ct), idempotent: true, cancellationToken);

    public Task<LicenseInfo> GetLicenseAsync(string code, CancellationToken cancellationToken = default) =>
        AnyAsync((api, s, ct) => api.SendAsync<LicenseInfo>(s, HttpMethod.Get, LicensePath(code), null, ct), idempotent: true, cancellationToken);

    public Task<IReadOnlyList<LicenseInfo>> GetLicensesAsync(CancellationToken cancellationToken = default) =>
        AnyAsync((api, s, ct) => api.SendAsync<IReadOnlyList<LicenseInfo>>(s, HttpMethod.Get, "api/v1/licenses", null, ct), idempotent: true, cancellationToken);

    /// <summary>The pool id (a grant names it), the trust of the build, and the trial seats.</summary>
    public Task<PoolInfo> GetPoolAsync(CancellationToken cancellationToken = default) =>
        AnyAsync((api, s, ct) => api.SendAsync<PoolInfo>(s, HttpMethod.Get, "api/v1/pool", null, ct), idempotent: true, cancellationToken);

    public Task<IReadOnlyList<ServerInfo>> GetServersAsync(CancellationToken cancellationToken = default) =>
        AnyAsync((api, s, ct) => api.SendAsync<IReadOnlyList<ServerInfo>>(s, HttpMethod.Get, "api/v1/servers", null, ct), idempotent: true, cancellationToken);

    /// <summary>A bare checkout (no background renewal), for tools; protected software uses <see cref="AcquireAsync"/>.</summary>
    public Task<LeaseInfo> CheckoutAsync(string code, int count, string? clientId = null, CancellationToken cancellationToken = default) =>
        CheckoutAsync(code, count, clientId, null, cancellationToken);

    /// <param name="owner">Who holds the lease (default: <see cref="LicensingClientOptions.User"/>, Host, DisplayName).</param>
    public Task<LeaseInfo> CheckoutAsync(string code, int count, string? clientId, LeaseOwnerInfo? owner, CancellationToken cancellationToken = default)
    {
        var body = new CheckoutBody(clientId ?? Options.ClientId, count, Guid.NewGuid().ToString("N"),
            owner?.User ?? Options.User, owner?.Host ?? Options.Host, owner?.DisplayName ?? Options.DisplayName);
        return AnyAsync((api, s, ct) => api.SendAsync<LeaseInfo>(s, HttpMethod.Post, LeasesPath(code), body, ct), idempotent: true, cancellationToken);
    }

    /// <summary>One heartbeat. Sent to a server other than <paramref name="serverId"/>, it is a fail-over update.</summary>
    public Task<LeaseInfo> HeartbeatAsync(string code, string leaseId, int count, string serverId, string? clientId = null, CancellationToken cancellationToken = default)
    {
        var body = new HeartbeatBody(clientId ?? Options.ClientId, count, serverId, Options.User, Options.Host, Options.DisplayName);
        return AnyAsync((api, s, ct) => api.SendAsync<LeaseInfo>(s, HttpMethod.Put, $"{LeasesPath(code)}/{Uri.EscapeDataString(leaseId)}", body, ct), idempotent: true, cancellationToken);
    }

    /// <summary>Who holds what (lmstat): every lease of a code with its owner, server and state (reader).</summary>
    public Task<IReadOnlyList<LeaseSummaryInfo>> GetLeasesAsync(string code, CancellationToken cancellationToken = default) =>
        AnyAsync((api, s, ct) => api.SendAsync<IReadOnlyList<LeaseSummaryInfo>>(s, HttpMethod.Get, LeasesPath(code), null, ct), idempotent: true, cancellationToken);

    /// <summary>
    /// Releases a lease on the administrator's behalf (lmremove; admin): its seat returns to its server, its client's next
    /// heartbeat hears <c>lease-released</c>. Not retried on another server once it may have reached one: a second
    /// release answers <c>lease-released</c>.
    /// </summary>
    public Task<LeaseSummaryInfo> ReleaseAsync(string code, string leaseId, string? reason = null, CancellationToken cancellationToken = default) =>
        AnyAsync((api, s, ct) => api.SendAsync<LeaseSummaryInfo>(s, HttpMethod.Post, $"{LeasesPath(code)}/{Uri.EscapeDataString(leaseId)}/release", new ReleaseBody(reason), ct),
            idempotent: false, cancellationToken);

    /// <summary>
    /// Checks a lease in; <paramref name="serverId"/> names the server holding it (any server forwards) and
    /// <paramref name="clientId"/> the client it was granted to (default: this client's id).
    /// </summary>
    public Task CheckinAsync(string code, string leaseId, string? serverId = null, string? clientId = null, CancellationToken cancellationToken = default) =>
        CheckinOnAnyAsync(code, leaseId, serverId, clientId ?? Options.ClientId, first: null, cancellationToken);

    /// <summary>
    /// Renews at <paramref name="home"/>, or in fail-over mode at the next server that answers. <paramref name="timeToLive"/>
    /// (the lease's life left) is shared among the servers still to try: a hung server then cannot use up the time the
    /// last one needed, whatever the attempt timeout.
    /// </summary>
    internal Task<(LeaseInfo Lease, Uri Server)> RenewAsync(LeaseInfo lease, Uri home, Func<TimeSpan> timeToLive, CancellationToken cancellationToken)
    {
        var body = new HeartbeatBody(lease.ClientId, lease.Count, lease.ServerId, Options.User, Options.Host, Options.DisplayName);
        return OnAnyServerAsync(
            (api, s, ct) => api.SendAsync<LeaseInfo>(s, HttpMethod.Put, $"{LeasesPath(lease.Code)}/{Uri.EscapeDataString(lease.LeaseId)}", body, ct),
            home, idempotent: true, cancellationToken, timeToLive);
    }

    internal Task<(bool, Uri)> CheckinAtAsync(LeaseInfo lease, Uri home, CancellationToken cancellationToken) =>
        CheckinOnAnyAsync(lease.Code, lease.LeaseId, lease.ServerId, lease.ClientId, home, cancellationToken);

    /// <summary>
    /// A check-in on the first server that answers. When an earlier attempt may have reached a server (it timed out or
    /// failed after sending, rather than finding no server), a later "lease-unknown" means that attempt checked the
    /// lease in and only its answer was lost: the lease is gone, which is what a check-in asks for.
    /// </summary>
    private Task<(bool, Uri)> CheckinOnAnyAsync(string code, string leaseId, string? serverId, string clientId, Uri? first, CancellationToken cancellationToken)
    {
        var mayHaveReached = false;
        return OnAnyServerAsync(async (api, s, ct) =>
        {
            try
            {
                await api.SendAsync(s, HttpMethod.Delete, CheckinPath(code, leaseId, serverId, clientId), null, ct);
                return true;
            }
            catch (LicensingProblemException e) when (mayHaveReached && e.Error == "lease-unknown")
            {
                return true;
            }
            catch (Exception e) when (e is not LicensingProblemException and not HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
            {
                mayHaveReached = true;
                throw;
            }
        }, first, idempotent: true, cancellationToken);
    }

    private async Task<T> AnyAsync<T>(Func<LicensingHttpApi, Uri, CancellationToken, Task<T>> call, bool idempotent, CancellationToken cancellationToken) =>
        (await OnAnyServerAsync(call, null, idempotent, cancellationToken)).Result;

    /// <summary>
    /// Tries <paramref name="first"/> (when given) and then the configured servers in order. A refusal (4xx) ends the
    /// search; an unreachable or failing server does not. A non-idempotent request moves on only when it never reached
    /// the server, so that it is never applied twice.
    /// </summary>
    private async Task<(T Result, Uri Server)> OnAnyServerAsync<T>(
        Func<LicensingHttpApi, Uri, CancellationToken, Task<T>> call, Uri? first, bool idempotent, CancellationToken cancellationToken,
        Func<TimeSpan>? timeLeft = null)
    {
        var api = new LicensingHttpApi(httpClients.CreateClient(HttpClientName), Options.ApiKey);
        var order = first is null ? Options.Servers : [first, .. Options.Servers.Where(s => s != first)];
        var perServer = Options.AttemptTimeout * (Options.RetriesPerServer + 1);
        Exception? last = null;
        for (var i = 0; i < order.Count; i++)
        {
            var server = order[i];
            var budget = timeLeft is null ? perServer : timeLeft() / (order.Count - i);
            using var attempt = budget < perServer ? new CancellationTokenSource(Max(budget, MinAttempt), Time) : null;
            using var linked = attempt is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attempt.Token);
            try
            {
                return (await call(api, server, linked?.Token ?? cancellationToken), server);
            }
            catch (Exception e) when (IsTransient(e, idempotent, cancellationToken))
            {
                LogServerFailed(server, e.Message);
                last = e;
            }
        }

        throw new LicensingUnavailableException($"No license server answered ({string.Join(", ", order)}): {last?.Message}", last);
    }

    /// <summary>The shortest attempt a shared-out lifetime gives a server: below it no server could answer.</summary>
    private static readonly TimeSpan MinAttempt = TimeSpan.FromMilliseconds(250);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static bool IsTransient(Exception e, bool idempotent, CancellationToken cancellationToken) => e switch
    {
        HttpRequestException h => idempotent || h.HttpRequestError == HttpRequestError.ConnectionError,
        TimeoutRejectedException => idempotent,
        OperationCanceledException => idempotent && !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    private static string LicensePath(string code) => $"api/v1/licenses/{Uri.EscapeDataString(code)}";

    private static string LeasesPath(string code) => $"{LicensePath(code)}/leases";

    private static string CheckinPath(string code, string leaseId, string? serverId, string clientId) =>
        $"{LeasesPath(code)}/{Uri.EscapeDataString(leaseId)}?clientId={Uri.EscapeDataString(clientId)}" + (serverId is null ? "" : $"&serverId={Uri.EscapeDataString(serverId)}");

    private static LicensingClientOptions Validated(LicensingClientOptions o)
    {
        if (o.Servers.Count == 0) throw new InvalidOperationException("LicensingClientOptions.Servers needs at least one license server URL.");
        if (string.IsNullOrWhiteSpace(o.ClientId)) throw new InvalidOperationException("LicensingClientOptions.ClientId is required.");

        // Relative API paths resolve under the base URL only when it ends with '/'.
        o.Servers = [.. o.Servers.Select(s => s.AbsoluteUri.EndsWith('/') ? s : new Uri(s.AbsoluteUri + "/"))];
        return o;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Acquired lease {LeaseId} of {Code} ({Count}) at {ServerId}")]
    private partial void LogAcquired(string leaseId, string code, int count, string serverId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "License server {Server} did not answer: {Reason}")]
    private partial void LogServerFailed(Uri server, string reason);
}
