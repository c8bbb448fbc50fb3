using System.Net.Http;
using System.Xml;
using Microsoft.Extensions.Logging;

namespace Orleans.Licensing.Client;

/// <summary>
/// Offline borrow (FlexNet BORROW, RLM roam): a seat held for a duration without heartbeats, for a machine that leaves
/// the network. The lease is not renewed by this SDK (no <see cref="LicenseLease"/>, no renewal loop): keep the
/// <see cref="LeaseInfo"/> (its id and server) to return it early with <see cref="ReturnAsync(LeaseInfo, CancellationToken)"/>.
/// </summary>
public sealed partial class LicensingClient
{
    /// <summary>Borrows <paramref name="count"/> seats of <paramref name="code"/> for <paramref name="duration"/>.</summary>
    /// <exception cref="LicensingProblemException">Refused: <c>borrow-limit</c> (the code's policy), <c>no-allocation</c>, ...</exception>
    public Task<LeaseInfo> BorrowAsync(string code, int count, TimeSpan duration, CancellationToken cancellationToken = default) =>
        BorrowAsync(code, count, duration, null, cancellationToken);

    /// <param name="clientId">Who borrows (default: this client's id).</param>
    public async Task<LeaseInfo> BorrowAsync(string code, int count, TimeSpan duration, string? clientId, CancellationToken cancellationToken = default)
    {
        // Our own lease id makes a retry at another server safe: the leader permits it once, a server grants it once.
        var body = new CheckoutBody(clientId ?? Options.ClientId, count, Guid.NewGuid().ToString("N"), Options.User, Options.Host, Options.DisplayName, XmlConvert.ToString(duration));
        var lease = await AnyAsync((api, s, ct) => api.SendAsync<LeaseInfo>(s, HttpMethod.Post, LeasesPath(code), body, ct), idempotent: true, cancellationToken);
        LogBorrowed(lease.LeaseId, code, count, lease.ServerId, lease.ExpiresAt);
        return lease;
    }

    /// <summary>Returns an offline borrow early, at any server: it forwards to the lease's server, or the leader frees the seat when that server is down.</summary>
    public Task ReturnAsync(LeaseInfo lease, CancellationToken cancellationToken = default) =>
        CheckinAsync(lease.Code, lease.LeaseId, lease.ServerId, lease.ClientId, cancellationToken);

    /// <inheritdoc cref="ReturnAsync(LeaseInfo, CancellationToken)"/>
    public Task ReturnAsync(string code, string leaseId, string? serverId = null, CancellationToken cancellationToken = default) =>
        CheckinAsync(code, leaseId, serverId, null, cancellationToken);

    /// <summary>Sets a code's offline borrow policy (admin): at most <paramref name="maxCount"/> seats at once, each at most <paramref name="maxDuration"/>.</summary>
    public Task<LicenseInfo> SetOfflineBorrowPolicyAsync(string code, int maxCount, TimeSpan maxDuration, CancellationToken cancellationToken = default)
    {
        var body = new OfflineBorrowPolicyBody(maxCount, XmlConvert.ToString(maxDuration));
        return AnyAsync((api, s, ct) => api.SendAsync<LicenseInfo>(s, HttpMethod.Put, $"{LicensePath(code)}/borrow-policy", body, ct), idempotent: true, cancellationToken);
    }

    /// <summary>Sets a code's linger (admin; FlexNet LINGER): a checked-in seat stays taken this long (zero: off, at most 24 h).</summary>
    public Task<LicenseInfo> SetLingerAsync(string code, TimeSpan linger, CancellationToken cancellationToken = default)
    {
        var body = new LingerBody(XmlConvert.ToString(linger));
        return AnyAsync((api, s, ct) => api.SendAsync<LicenseInfo>(s, HttpMethod.Put, $"{LicensePath(code)}/linger", body, ct), idempotent: true, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Borrowed lease {LeaseId} of {Code} ({Count}) offline at {ServerId} until {EndsAt}")]
    private partial void LogBorrowed(string leaseId, string code, int count, string serverId, DateTimeOffset endsAt);
}
