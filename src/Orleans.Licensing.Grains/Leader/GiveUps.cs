namespace Orleans.Licensing;

/// <summary>
/// The leader's calls to live servers to give allocations up (claim 33): the giver shrinks its own record first and
/// says how many it gave; only then does the leader count them elsewhere. Any failure counts as "gave nothing": a giver
/// whose write failed may have shrunk or not, and counting its allocations there is under-use at worst, never a double
/// count. A server that did not answer lately is not asked again for a while, so that a crashed server that is not
/// declared dead yet does not hold up every borrow behind a timeout.
/// </summary>
internal sealed partial class GiveUps(IGrainFactory grains, string code, LicensingOptions options, ILogger logger)
{
    private readonly Dictionary<string, DateTimeOffset> _unresponsive = new(StringComparer.Ordinal);

    /// <summary>The server answered through another door (it rejoined): ask it again.</summary>
    public void Forget(string serverId) => _unresponsive.Remove(serverId);

    /// <summary>Asks a live server for up to <paramref name="count"/> allocations; returns how many it gave.</summary>
    public async Task<int> AskAsync(string serverId, ShareState share, int count, GiveUpMode mode, long version, Guid operationId)
    {
        if (count <= 0) return 0;
        var result = await SendAsync(serverId, share, new GiveUpRequest(operationId, count, mode, version, share.Allocated, version + 1));
        return result?.Given ?? 0;
    }

    /// <summary>A give-up; null when the server did not answer. Applies what it gave to its row.</summary>
    public async Task<GiveUpResult?> SendAsync(string serverId, ShareState share, GiveUpRequest request)
    {
        if (_unresponsive.TryGetValue(serverId, out var until) && until > DateTimeOffset.UtcNow) return null;
        try
        {
            // A give-up that lands after the timeout only shrinks the server below our row: it under-uses until the
            // next sync; nothing is counted twice.
            var result = await grains.GetServerGrain(serverId, code).GiveUp(request).WaitAsync(options.GiveUpTimeout);
            _unresponsive.Remove(serverId);
            share.Allocated -= result.Given;
            share.InUse = result.InUse;
            return result;
        }
        catch (Exception e)
        {
            LogGiveUpFailed(e, code, serverId);
            if (TransientFailures.Is(e)) _unresponsive[serverId] = DateTimeOffset.UtcNow + 3 * options.GiveUpTimeout;
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: server {ServerId} did not answer a give-up")]
    private partial void LogGiveUpFailed(Exception e, string code, string serverId);
}
