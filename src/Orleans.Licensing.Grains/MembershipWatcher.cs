using Microsoft.Extensions.Hosting;

namespace Orleans.Licensing;

/// <summary>
/// Tells the leader of every license code when the set of functioning servers changes, so that a dead server's
/// allocations become a source (and a returning one stops being one) without waiting for the next borrow.
/// </summary>
public sealed partial class MembershipWatcher(
    IClusterMembershipService membership,
    IGrainFactory grains,
    ILogger<MembershipWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HashSet<string>? previous = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                var active = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
                if (previous is not null && !active.SetEquals(previous))
                {
                    LogChanged(string.Join(",", active.Order(StringComparer.Ordinal)));
                    await NotifyLeadersAsync(stoppingToken);
                }

                previous = active;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task NotifyLeadersAsync(CancellationToken stoppingToken)
    {
        try
        {
            var codes = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetCodes();
            await Task.WhenAll(codes.Select(async code =>
            {
                try
                {
                    await grains.GetGrain<IPoolGrain>(code).RefreshMembership().WaitAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogNotifyFailed(e, code);
                }
            }));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogNotifyFailed(e, "*");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Functioning license servers: {Servers}")]
    private partial void LogChanged(string servers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not tell the leader of {Code} about a membership change")]
    private partial void LogNotifyFailed(Exception e, string code);
}
