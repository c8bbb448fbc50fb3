using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Grants;
using Orleans.Placement;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// The leader of one license code (claims 1, 4, 16, 18): it holds the distribution, finds sources when a server lacks
/// allocations, and sends a distribution criteria sync to every functioning server after each change.
/// Not reentrant: a change (including the give-ups it awaits) is one leader turn, written once (PoolGrain.Turn.cs).
/// Leader calls are rare by design; servers absorb the checkout rate. This file holds the message handlers; the
/// arithmetic is in <see cref="PoolTable"/>, <see cref="SourceOrder"/> and <see cref="AdoptionCheck"/>.
/// </summary>
[PreferLocalPlacement]
public sealed partial class PoolGrain(
    [PersistentState("pool", LicensingOptions.StorageName)] IPersistentState<PoolState> state,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    IServiceProvider services,
    IOptions<LicensingOptions> options,
    IGrantVerifier grants,
    DeepCopier<PoolState> copier,
    ILogger<PoolGrain> logger) : Grain, IPoolGrain
{
    private const int RecentBorrowsKept = 512;

    private readonly LicensingOptions _options = options.Value;
    private GiveUps _giveUps = null!;
    private Fencing _fencing = null!;
    private IGrainTimer? _redistributing;
    private string? _poolId;

    private string Code => this.GetPrimaryKeyString();
    private string LeaderServerId => silo.Name;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _giveUps = new GiveUps(GrainFactory, Code, _options, logger);
        _fencing = new Fencing(services.GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName), GrainFactory, Code, _options, logger);
        _live = state.State;
        RememberCommitted();
        if (S.License is null) return;

        // A new leader: servers may have died with the old one, and the old one may have died between writing a
        // change and sending its sync, so every functioning server hears the stored distribution again.
        await TurnAsync(async () =>
        {
            // A rejoin is not written: a server fenced in storage may have rejoined the old leader since and be
            // serving. Fence it again before anything of it is counted elsewhere (a fence that is the journal's last
            // entry is replaced, so this never fills a down server's journal); it rejoins this activation.
            var refenced = false;
            foreach (var (serverId, share) in S.Servers.Where(s => s.Value.Fenced).ToList())
            {
                if (await _fencing.FenceAsync(serverId, share, S.Adoptions, S.OfflineBorrows)) refenced = true;
                else _fencing.MarkUnread(serverId, share);
            }

            if (await RefreshStatusAsync() | refenced) await CommitAndSyncAsync();
            else await SendSyncAsync();
            return 0;
        });

        StartRedistributing();
    }

    /// <summary>Claim 32 on a timer: idle surplus flows back to the free pool while the leader is active.</summary>
    private void StartRedistributing()
    {
        if (_options.RedistributeInterval <= TimeSpan.Zero || _redistributing is not null) return;
        _redistributing = this.RegisterGrainTimer(
            async () => await ((IPoolGrain)this).Redistribute(),
            new GrainTimerCreationOptions(_options.RedistributeInterval, _options.RedistributeInterval));
    }

    async Task<Distribution> IPoolGrain.AddLicenseCode(AddLicenseCode message)
    {
        var (grant, trial) = await VerifyAsync(message.Grant, GrantKinds.LicenseCode);
        var license = new LicenseCode(grant.Code, grant.Product!, grant.Seats!.Value, grant.ExpiresAt, trial);
        LicenseRules.Validate(license, Code);
        var criteria = message.Criteria ?? new DistributionCriteria(Even: true);
        DistributionPlanner.Validate(criteria, license.Seats);

        EnsureNotApplied(grant.GrantId);
        if (S.License is { } existing)
        {
            // Idempotent: the same code again changes nothing; a different one is a conflict.
            if (existing != license) throw new LicensingException(LicensingErrors.Conflict, $"License code '{Code}' exists with other terms.");
            await GrainFactory.GetGrain<ICatalogGrain>(ICatalogGrain.Key).Add(Code);
            return Snapshot();
        }

        if (trial) await GrainFactory.GetGrain<ICatalogGrain>(ICatalogGrain.Key).ReserveTrialSeats(grant.GrantId, license.Seats);
        await TurnAsync(async () =>
        {
            Table.AddLicense(license, grant.GrantId);
            await RefreshStatusAsync();
            await ApplyCriteriaAsync(criteria);
            await CommitAndSyncAsync();
            return 0;
        });
        await GrainFactory.GetGrain<ICatalogGrain>(ICatalogGrain.Key).Add(Code);
        StartRedistributing();
        LogLicenseAdded(Code, license.Seats);
        return Snapshot();
    }

    async Task<Distribution> IPoolGrain.AddAllocations(AddAllocations message)
    {
        EnsureLicense();
        EnsureCode(message.Code);
        var (grant, trial) = await VerifyAsync(message.Grant, GrantKinds.Allocations);
        var count = grant.Count!.Value;
        LicenseRules.ValidateAddedSeats(S.Total, count);
        EnsureNotApplied(grant.GrantId);
        if (trial) await GrainFactory.GetGrain<ICatalogGrain>(ICatalogGrain.Key).ReserveTrialSeats(grant.GrantId, count);
        return await TurnAsync(async () =>
        {
            Table.AddSeats(count, grant.GrantId, trial);
            await CommitAndSyncAsync();
            return Snapshot();
        });
    }

    async Task<Distribution> IPoolGrain.ChangeDistributionCriteria(ChangeDistributionCriteria message)
    {
        EnsureLicense();
        EnsureCode(message.Code);
        var criteria = message.Criteria ?? throw Invalid("Distribution criteria are required.");
        DistributionPlanner.Validate(criteria, S.Total);
        return await TurnAsync(async () =>
        {
            await RefreshStatusAsync();
            await ApplyCriteriaAsync(criteria);
            await CommitAndSyncAsync();
            return Snapshot();
        });
    }

    async Task<BorrowGrant> IPoolGrain.Borrow(BorrowRequest request)
    {
        EnsureLicense();
        if (request.Count < 0 || string.IsNullOrWhiteSpace(request.ServerId)) throw Invalid("A borrow needs a server id and a non-negative count.");
        if (S.RecentBorrows.FirstOrDefault(b => b.OperationId == request.OperationId) is { } done)
        {
            return new BorrowGrant(done.OperationId, done.Granted, done.Sources, SyncFor(), done.Refused);
        }

        return await TurnAsync(async () =>
        {
            var changed = await RefreshStatusAsync();
            var taker = Table.Share(request.ServerId);
            taker.InUse = request.InUse;
            var refused = new Dictionary<string, string>(StringComparer.Ordinal);
            changed |= await AdoptAsync(request, refused);

            var asked = PoolTable.NeedAfterRefusals(request, refused);
            var sources = new List<BorrowSource>();
            var granted = await FindSourcesAsync(request, asked, sources);
            LogBorrow(Code, request.ServerId, request.Count, granted, request.Reason);
            var answer = refused.Count > 0 ? refused : null;

            // A borrow that found nothing and changed nothing writes and syncs nothing: denials must stay cheap.
            if (granted == 0 && !changed) return new BorrowGrant(request.OperationId, 0, sources, DurableSync(), answer);

            taker.Allocated += granted;
            Table.RememberBorrow(new BorrowOutcome(request.OperationId, granted, sources, answer), RecentBorrowsKept);
            await CommitAndSyncAsync();
            return new BorrowGrant(request.OperationId, granted, sources, SyncFor(), answer);
        });
    }

    async Task<DistributionSync?> IPoolGrain.Rejoin(string serverId, string siloAddress)
    {
        // Interleaves with a change in flight: stop counting the server as down right away, so that no later step
        // takes its allocations, and report no more than is durable.
        if (S.License is null) return null;
        await EnsureCurrentAsync();

        // Its journal is being fenced: what it loaded may predate the fence; it comes back after the fence is done.
        if (_fencing.InProgress(serverId)) throw new LicensingException(LicensingErrors.Unavailable, $"License server '{serverId}' is being fenced for '{Code}'; retry.");
        var share = ApplyRejoin(serverId, siloAddress);
        if (_inTurn) _rejoinsInTurn.Add((serverId, siloAddress));

        // A server that comes back below its base share (spent elsewhere while it was down) should not wait a whole
        // period for the idle surplus of the others.
        if (share.Allocated < share.BaseShare) _redistributing?.Change(TimeSpan.FromSeconds(1), _options.RedistributeInterval);
        return DurableSync();
    }

    private ShareState ApplyRejoin(string serverId, string siloAddress)
    {
        var share = Table.Share(serverId);
        Fencing.Rejoined(share, siloAddress);
        _giveUps.Forget(serverId);
        return share;
    }

    Task<DistributionSync?> IPoolGrain.GetSyncSince(long appliedVersion) =>
        Task.FromResult(S.License is null || appliedVersion >= _committedVersion ? null : DurableSync());

    async Task<int> IPoolGrain.Redistribute()
    {
        if (S.License is null) return 0;
        return await TurnAsync(RedistributeAsync);
    }

    async Task<int> IPoolGrain.Release(string serverId)
    {
        if (S.License is null || !S.Servers.TryGetValue(serverId, out var share) || share.Down || share.Allocated <= 0) return 0;

        // The server keeps what backs its leases (held for fail-over once it is gone); the rest is a source at once.
        return await TurnAsync(async () =>
        {
            var given = await _giveUps.AskAsync(serverId, share, share.Allocated, GiveUpMode.Unused, S.Version, Guid.NewGuid());
            if (given <= 0) return 0;
            Table.ToFreePool(given);
            await CommitAndSyncAsync();
            LogReleased(Code, serverId, given);
            return given;
        });
    }

    async Task IPoolGrain.RefreshMembership()
    {
        if (S.License is null) return;
        await TurnAsync(async () =>
        {
            if (await RefreshStatusAsync()) await CommitAndSyncAsync();
            return 0;
        });
    }

    Task IPoolGrain.ReportUsage(string serverId, int inUse)
    {
        if (S.License is not null && S.Servers.TryGetValue(serverId, out var share)) share.InUse = inUse;
        return Task.CompletedTask;
    }

    Task<IReadOnlyList<HeldLeaseView>> IPoolGrain.GetHeldLeases() =>
        Task.FromResult(HeldLeases.Views(S.Servers, DateTimeOffset.UtcNow));

    Task<Distribution?> IPoolGrain.GetDistribution() => Task.FromResult(S.License is null ? null : Snapshot());

    /// <summary>
    /// The leader's own check of a grant, whoever sent it: signature, key and expiry (<see cref="IGrantVerifier"/>),
    /// then kind, license code and pool id. Seats come only from what passes here.
    /// </summary>
    private async Task<VerifiedGrant> VerifyAsync(string? text, string kind)
    {
        var verified = grants.Verify(text, DateTimeOffset.UtcNow);
        _poolId ??= await GrainFactory.GetGrain<ICatalogGrain>(ICatalogGrain.Key).GetPoolId();
        GrantRules.For(verified, kind, Code, _poolId);
        return verified;
    }

    /// <summary>A grant id applies once, so a replayed grant (or a retry after a lost answer) adds nothing.</summary>
    private void EnsureNotApplied(string grantId)
    {
        if (S.AppliedGrants.Contains(grantId))
        {
            throw new LicensingException(LicensingErrors.GrantReplayed, $"Grant '{grantId}' was applied to '{Code}' before; nothing was added.");
        }
    }

    private void EnsureLicense()
    {
        if (S.License is null) throw new LicensingException(LicensingErrors.UnknownLicense, $"License code '{Code}' is unknown.");
    }

    private void EnsureCode(string code)
    {
        if (code != Code) throw Invalid($"This pool serves '{Code}', not '{code}'.");
    }

    private static LicensingException Invalid(string message) => new(LicensingErrors.InvalidRequest, message);

    [LoggerMessage(Level = LogLevel.Information, Message = "License code {Code} added with {Seats} seats")]
    private partial void LogLicenseAdded(string code, int seats);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Code}: {ServerId} borrowed {Granted} of {Count} ({Reason})")]
    private partial void LogBorrow(string code, string serverId, int count, int granted, BorrowReason reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: stopping server {ServerId} handed {Given} unused allocations back to the free pool")]
    private partial void LogReleased(string code, string serverId, int given);
}
