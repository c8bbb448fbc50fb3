namespace Orleans.Licensing;

/// <summary>
/// The code's linger at the leader (docs/admin/linger.md): part of the per-code policy record that the offline borrow
/// policy lives in, durable, versioned, and sent to every server with each sync. The rule is <see cref="LingerRule"/>.
/// </summary>
public sealed partial class PoolGrain
{
    async Task<Distribution> IPoolGrain.SetLinger(SetLinger message)
    {
        EnsureLicense();
        EnsureCode(message.Code);
        if (LingerRule.Invalid(message.Linger) is { } why) throw Invalid(why);
        return await TurnAsync(async () =>
        {
            var policy = S.OfflineBorrows.Policy = LingerRule.Set(S.OfflineBorrows.Policy, message.Linger);
            await CommitAndSyncAsync();
            LogLingerSet(Code, policy.Linger, policy.Version);
            return Snapshot();
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: policy v{Version}: a checked-in lease lingers {Linger}")]
    private partial void LogLingerSet(string code, TimeSpan linger, long version);
}
