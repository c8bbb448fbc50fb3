using Microsoft.Extensions.DependencyInjection;
using Orleans.Placement;
using Orleans.Serialization;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// The leader of one license code (claims 1, 4, 16, 18): it holds the distribution, finds sources when a server lacks
/// allocations, and sends a distribution criteria sync to every functioning server after each change.
/// Not reentrant: a change (including the give-ups it awaits) is one turn, written once, so the version a give-up
/// promises is the version that lands. Leader calls are rare by design; servers absorb the checkout rate.
/// </summary>
[PreferLocalPlacement]
public sealed partial class PoolGrain(
    [PersistentState("pool", LicensingOptions.StorageName)] IPersistentState<PoolState> state,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    IServiceProvider services,
    IOptions<LicensingOptions> options,
    DeepCopier<PoolState> copier,
    ILogger<PoolGrain> logger) : Grain, IPoolGrain
{
    private const int RecentBorrowsKept = 512;
    private const int MaxSeats = 100_000_000;

    private readonly LicensingOptions _options = options.Value;

    /// <summary>Each server's allocations as last written: a rejoining server never gets a raise that is not durable yet.</summary>
    private Dictionary<string, int> _committed = [];
    private long _committedVersion;
    private IGrainTimer? _redistributing;

    // Servers that did not answer a give-up lately: not asked again for a while, so that a crashed server that is not
    // declared dead yet does not hold up every borrow behind a timeout.
    private readonly Dictionary<string, DateTimeOffset> _unresponsive = new(StringComparer.Ordinal);

    // The state this grain changes; storage is given a copy of it (see CommitAndSyncAsync).
    private PoolState _live = null!;

    // A turn is all-or-nothing (see TurnAsync): what interleaved rejoins changed is applied again after a rollback.
    private bool _inTurn;
    private bool _committedInTurn;
    private readonly List<(string ServerId, string SiloAddress)> _rejoinsInTurn = [];

    // Servers whose journal is being fenced: they cannot rejoin until the fence and the read of their leases are done.
    private readonly HashSet<string> _fencing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _poked = new(StringComparer.Ordinal);
    private bool _writing;

    private PoolState S => _live;
    private string Code => this.GetPrimaryKeyString();
    private string LeaderServerId => silo.Name;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _live = state.State;
        RememberCommitted();
        if (S.License is null) return;

        // A new leader: servers may have died with the old one, and the old one may have died between writing a
        // change and sending its sync, so every functioning server hears the stored distribution again.
        await TurnAsync(async () =>
        {
            // A rejoin is not written: a server fenced in storage may have rejoined the old leader since and be
            // serving. Fence it again before anything of it is counted elsewhere; it rejoins this activation.
            var refenced = false;
            foreach (var (serverId, share) in S.Servers.Where(s => s.Value.Fenced).ToList())
            {
                if (await FenceAsync(serverId, share)) refenced = true;
                else MarkUnread(serverId, share);
            }

            if (await RefreshStatusAsync() | refenced)
            {
                await CommitAndSyncAsync();
            }
            else
            {
                await SendSyncAsync();
            }

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
        var license = message.License ?? throw Invalid("A license code is required.");
        if (string.IsNullOrWhiteSpace(license.Code) || license.Code.Length > 200 || license.Code.Contains('/'))
            throw Invalid("A license code must be 1 to 200 characters with no '/'.");
        if (license.Code != Code) throw Invalid($"This pool serves '{Code}', not '{license.Code}'.");
        if (string.IsNullOrWhiteSpace(license.Product)) throw Invalid("A product is required.");
        if (license.Seats < 1 || license.Seats > MaxSeats) throw Invalid($"Seats must be between 1 and {MaxSeats}.");
        var criteria = message.Criteria ?? new DistributionCriteria(Even: true);
        DistributionPlanner.Validate(criteria, license.Seats);

        EnsureNotApplied(message.GrantId);
        if (S.License is { } existing)
        {
            // Idempotent: the same code again changes nothing; a different one is a conflict.
            if (existing != license) throw new LicensingException(LicensingErrors.Conflict, $"License code '{Code}' exists with other terms.");
            await GrainFactory.GetGrain<ICatalogGrain>(ICatalogGrain.Key).Add(Code);
            return Snapshot();
        }

        await TurnAsync(async () =>
        {
            S.License = license;
            S.Total = license.Seats;
            S.FreePool = license.Seats;
            if (message.GrantId is { } grant) S.AppliedGrants.Add(grant);
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
        if (message.Code != Code) throw Invalid($"This pool serves '{Code}', not '{message.Code}'.");
        if (message.Count < 1 || (long)S.Total + message.Count > MaxSeats) throw Invalid($"Count must be at least 1 and the total at most {MaxSeats}.");
        EnsureNotApplied(message.GrantId);
        return await TurnAsync(async () =>
        {
            if (message.GrantId is { } grant) S.AppliedGrants.Add(grant);
            S.Total += message.Count;
            S.FreePool += message.Count;
            S.License = S.License! with { Seats = S.Total };
            await CommitAndSyncAsync();
            return Snapshot();
        });
    }

    /// <summary>A grant id applies once, so a replayed grant (or a retry after a lost answer) adds nothing.</summary>
    private void EnsureNotApplied(string? grantId)
    {
        if (grantId is not null && S.AppliedGrants.Contains(grantId))
        {
            throw new LicensingException(LicensingErrors.GrantReplayed, $"Grant '{grantId}' was applied to '{Code}' before; nothing was added.");
        }
    }

    async Task<Distribution> IPoolGrain.ChangeDistributionCriteria(ChangeDistributionCriteria message)
    {
        EnsureLicense();
        if (message.Code != Code) throw Invalid($"This pool serves '{Code}', not '{message.Code}'.");
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
            var taker = Share(request.ServerId);
            taker.InUse = request.InUse;
            var refused = new Dictionary<string, string>(StringComparer.Ordinal);
            changed |= await AdoptAsync(request.Adoptions ?? [], request.ServerId, refused);

            var sources = new List<BorrowSource>();
            var need = NeedAfterRefusals(request, refused);
            var asked = need;
            if (request.Reason == BorrowReason.ClientRequest)
            {
                // Claims 5, 19: free pool, then down servers, then the leader server's own share; then (claim 32, at
                // once rather than on the next period) what other live servers hold beyond their threshold's need.
                need -= TakeFromFreePool(need, sources);
                need -= TakeFromDownServers(need, request.ServerId, sources);
                need -= await TakeFromLeaderServerAsync(need, request.ServerId, sources);
                need -= await TakeFromLiveServersAsync(need, request.ServerId, sources, TransferMode.Idle);
            }
            else
            {
                // Claims 14, 28: the leader server, free pool, down servers; then (claims 15, 29) the other live servers.
                need -= await TakeFromLeaderServerAsync(need, request.ServerId, sources);
                need -= TakeFromFreePool(need, sources);
                need -= TakeFromDownServers(need, request.ServerId, sources);
                need -= await TakeFromLiveServersAsync(need, request.ServerId, sources, TransferMode.Unused);
            }

            var granted = asked - need;
            LogBorrow(Code, request.ServerId, request.Count, granted, request.Reason);
            var answer = refused.Count > 0 ? refused : null;

            // A borrow that found nothing and changed nothing writes and syncs nothing: denials must stay cheap.
            if (granted == 0 && !changed) return new BorrowGrant(request.OperationId, 0, sources, DurableSync(), answer);

            taker.Allocated += granted;
            S.RecentBorrows.Add(new BorrowOutcome(request.OperationId, granted, sources, answer));
            if (S.RecentBorrows.Count > RecentBorrowsKept) S.RecentBorrows.RemoveRange(0, S.RecentBorrows.Count - RecentBorrowsKept);
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
        if (_fencing.Contains(serverId)) throw new LicensingException(LicensingErrors.Unavailable, $"License server '{serverId}' is being fenced for '{Code}'; retry.");
        var share = ApplyRejoin(serverId, siloAddress);
        if (_inTurn) _rejoinsInTurn.Add((serverId, siloAddress));

        // A server that comes back below its base share (spent elsewhere while it was down) should not wait a whole
        // period for the idle surplus of the others.
        if (share.Allocated < share.BaseShare) _redistributing?.Change(TimeSpan.FromSeconds(1), _options.RedistributeInterval);
        return DurableSync();
    }

    /// <summary>
    /// A rejoin is answered without a write, so a stale activation (on a silo that was paused while a new leader took
    /// over) could hand a server allocations the new leader counts elsewhere: the stored version must still be ours.
    /// </summary>
    private async Task EnsureCurrentAsync()
    {
        if (_writing) return;   // our own write decides: if it fails, this activation goes away
        var stored = new GrainState<PoolState>(new PoolState());
        await services.GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName).ReadStateAsync("pool", this.GetGrainId(), stored);
        if (_writing || stored.ETag == state.Etag) return;
        LogStale(Code);
        DeactivateOnIdle();
        throw new LicensingException(LicensingErrors.Unavailable, $"The leader of '{Code}' moved; retry.");
    }

    /// <summary>A refused adoption borrows nothing: a made-up lease id must not act as a checkout.</summary>
    private static int NeedAfterRefusals(BorrowRequest request, IReadOnlyDictionary<string, string> refused)
    {
        if (refused.Count == 0) return request.Count;
        var adoptions = request.Adoptions ?? [];
        if (adoptions.All(a => refused.ContainsKey(a.LeaseId))) return 0;
        return Math.Max(0, request.Count - adoptions.Where(a => refused.ContainsKey(a.LeaseId)).Sum(a => a.Count));
    }

    private ShareState ApplyRejoin(string serverId, string siloAddress)
    {
        var share = Share(serverId);
        share.Down = false;
        share.Fenced = false;
        share.Unread = false;
        share.Held.Clear();
        share.RejoinedFrom = siloAddress;
        _unresponsive.Remove(serverId);
        return share;
    }

    Task<DistributionSync?> IPoolGrain.GetSyncSince(long appliedVersion) =>
        Task.FromResult(S.License is null || appliedVersion >= _committedVersion ? null : DurableSync());

    /// <summary>
    /// The distribution as last written, at the version written: a change in flight lands as a newer version, and a
    /// raise it makes is reported only once it is durable.
    /// </summary>
    private DistributionSync DurableSync()
    {
        var snapshot = Snapshot();
        var durable = snapshot with
        {
            Version = _committedVersion,
            Servers = [.. snapshot.Servers.Select(s => s with { Allocated = Math.Min(s.Allocated, _committed.GetValueOrDefault(s.ServerId)) })],
        };
        return new DistributionSync(durable, ActiveAdoptions());
    }

    async Task<int> IPoolGrain.Redistribute()
    {
        if (S.License is null) return 0;
        return await TurnAsync(RedistributeAsync);
    }

    private async Task<int> RedistributeAsync()
    {
        var changed = await RefreshStatusAsync();
        var now = DateTimeOffset.UtcNow;
        var moved = 0;

        // Idle surplus goes back to the free pool: live servers give what they do not need, down servers their unused.
        foreach (var (serverId, share) in S.Servers.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var surplus = share.Down ? share.DownUnused(now) : share.Allocated - share.BaseShare;
            if (surplus <= 0) continue;
            moved += await ReclaimToFreePoolAsync(serverId, share, surplus, TransferMode.Surplus, now);
        }

        // Then the free pool refills functioning servers below their base share.
        foreach (var share in S.Servers.Values.Where(s => !s.Down && s.Allocated < s.BaseShare))
        {
            var add = Math.Min(share.BaseShare - share.Allocated, S.FreePool);
            share.Allocated += add;
            S.FreePool -= add;
            changed |= add > 0;
        }

        if (moved > 0 || changed) await CommitAndSyncAsync();
        if (moved > 0) LogRedistributed(Code, moved);
        return moved;
    }

    async Task<int> IPoolGrain.Release(string serverId)
    {
        if (S.License is null || !S.Servers.TryGetValue(serverId, out var share) || share.Down || share.Allocated <= 0) return 0;

        // The server keeps what backs its leases (held for fail-over once it is gone); the rest is a source at once.
        return await TurnAsync(async () =>
        {
            var given = await GiveUpAsync(serverId, share.Allocated, TransferMode.Unused);
            if (given <= 0) return 0;
            S.FreePool += given;
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

    Task<Distribution?> IPoolGrain.GetDistribution() => Task.FromResult(S.License is null ? null : Snapshot());

    private int TakeFromFreePool(int need, List<BorrowSource> sources)
    {
        var take = Math.Min(need, S.FreePool);
        if (take <= 0) return 0;
        S.FreePool -= take;
        sources.Add(new BorrowSource(SourceKind.FreePool, null, take));
        return take;
    }

    private int TakeFromDownServers(int need, string takerId, List<BorrowSource> sources)
    {
        var now = DateTimeOffset.UtcNow;
        var taken = 0;
        foreach (var (serverId, share) in S.Servers.Where(s => s.Value.Down && s.Key != takerId).OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var take = Math.Min(need - taken, share.DownUnused(now));
            if (take <= 0) continue;
            LogTookFromDown(Code, take, serverId, share.Allocated, share.HeldCount(now), takerId);
            share.Allocated -= take;
            taken += take;
            sources.Add(new BorrowSource(SourceKind.DownServer, serverId, take));
        }

        return taken;
    }

    private async Task<int> TakeFromLeaderServerAsync(int need, string takerId, List<BorrowSource> sources)
    {
        if (need <= 0 || takerId == LeaderServerId || Share(LeaderServerId) is { Down: true } or { Allocated: 0 }) return 0;
        var given = await GiveUpAsync(LeaderServerId, need, TransferMode.Unused);
        if (given > 0) sources.Add(new BorrowSource(SourceKind.LeaderServer, LeaderServerId, given));
        return given;
    }

    private async Task<int> TakeFromLiveServersAsync(int need, string takerId, List<BorrowSource> sources, TransferMode mode)
    {
        var taken = 0;
        var candidates = S.Servers
            .Where(s => !s.Value.Down && s.Key != takerId && s.Key != LeaderServerId && s.Value.Allocated > 0)
            .OrderByDescending(s => s.Value.Allocated - s.Value.InUse).ThenBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => s.Key).ToList();
        foreach (var serverId in candidates)
        {
            if (taken >= need) break;
            var given = await GiveUpAsync(serverId, need - taken, mode);
            if (given > 0) sources.Add(new BorrowSource(SourceKind.LiveServer, serverId, given));
            taken += given;
        }

        return taken;
    }

    /// <summary>
    /// Asks a live server to give allocations up (claim 33): it shrinks its own record first and tells us how many it
    /// gave; only then does this grain count them elsewhere. A server that cannot be reached gives nothing.
    /// </summary>
    private async Task<int> GiveUpAsync(string serverId, int count, TransferMode mode)
    {
        if (count <= 0) return 0;
        var share = Share(serverId);
        var result = await TransferAsync(serverId, new TransferRequest(Guid.NewGuid(), count, mode, S.Version, share.Allocated, S.Version + 1));
        return result?.Given ?? 0;
    }

    /// <summary>
    /// A transfer from a live server; null when it did not answer. Any failure counts as "gave nothing": a giver whose
    /// write failed may have shrunk or not, and counting its allocations there is under-use at worst, never a double count.
    /// </summary>
    private async Task<TransferResult?> TransferAsync(string serverId, TransferRequest request)
    {
        if (_unresponsive.TryGetValue(serverId, out var until) && until > DateTimeOffset.UtcNow) return null;
        var share = Share(serverId);
        try
        {
            // A give-up that lands after the timeout only shrinks the server below our row: it under-uses until the
            // next sync; nothing is counted twice.
            var result = await GrainFactory.GetServerGrain(serverId, Code).GiveUp(request).WaitAsync(_options.GiveUpTimeout);
            _unresponsive.Remove(serverId);
            share.Allocated -= result.Given;
            share.InUse = result.InUse;
            return result;
        }
        catch (Exception e)
        {
            LogGiveUpFailed(e, Code, serverId);
            if (e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException)
            {
                _unresponsive[serverId] = DateTimeOffset.UtcNow + 3 * _options.GiveUpTimeout;
            }

            return null;
        }
    }

    /// <summary>
    /// Fail-over adoptions (claims 13, 27): each lease is checked against the server that holds it (the origin, or an
    /// earlier adopter), and its seat moves with it. A live holder drops the lease and gives its seat to the free
    /// pool; a holder that does not answer is fenced first (it may be paused, not dead) and then treated as down: the
    /// lease must be among those it held. What cannot be checked yet is refused with "retry", what does not match with
    /// "unknown". Returns whether the distribution changed.
    /// </summary>
    private async Task<bool> AdoptAsync(IReadOnlyList<AdoptedLease> adoptions, string adopterId, Dictionary<string, string> refused)
    {
        var changed = false;
        var byHolder = new Dictionary<string, List<AdoptedLease>>(StringComparer.Ordinal);
        var unfinished = new HashSet<string>(StringComparer.Ordinal);
        foreach (var adoption in adoptions)
        {
            var holderId = adoption.OriginServerId;
            if (S.Adoptions.TryGetValue(adoption.LeaseId, out var prior))
            {
                if (prior.AdopterServerId == adopterId) continue;   // a retry: adopted here already
                holderId = prior.AdopterServerId;

                // An earlier adopter that does not hold it never finished its adoption (it failed after we recorded
                // it): the lease is still the client's, and moves on.
                if (prior.Matches(adoption)) unfinished.Add(adoption.LeaseId);
            }

            if (!byHolder.TryGetValue(holderId, out var leases)) byHolder[holderId] = leases = [];
            leases.Add(adoption);
        }

        foreach (var (holderId, leases) in byHolder.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            if (holderId == adopterId || !S.Servers.TryGetValue(holderId, out var holder))
            {
                foreach (var lease in leases) refused[lease.LeaseId] = LicensingErrors.LeaseUnknown;
                continue;
            }

            if (!holder.Down)
            {
                var request = new TransferRequest(Guid.NewGuid(), leases.Sum(l => l.Count), TransferMode.Leases, S.Version, holder.Allocated, S.Version + 1, leases);
                if (await TransferAsync(holderId, request) is { } released)
                {
                    S.FreePool += released.Given;
                    changed |= released.Given > 0;
                    var unknown = (released.Unknown ?? []).ToHashSet(StringComparer.Ordinal);
                    foreach (var lease in leases)
                    {
                        if (unknown.Contains(lease.LeaseId) && !unfinished.Contains(lease.LeaseId)) refused[lease.LeaseId] = LicensingErrors.LeaseUnknown;
                        else RecordAdoption(lease, holderId, adopterId);
                    }

                    continue;
                }

                changed |= await FenceAsync(holderId, holder);
            }

            var now = DateTimeOffset.UtcNow;
            foreach (var lease in leases)
            {
                if (!holder.Down || holder.Unread)
                {
                    refused[lease.LeaseId] = LicensingErrors.Unavailable;
                }
                else if (holder.Held.TryGetValue(lease.LeaseId, out var held) && held.ExpiresAt > now && held.Count == lease.Count
                    && (held.ClientId is null || held.ClientId == lease.ClientId))
                {
                    // Its seat at the down holder is unused from here on: a source for this very borrow.
                    holder.Held.Remove(lease.LeaseId);
                    RecordAdoption(lease, holderId, adopterId);
                    changed = true;
                }
                else if (unfinished.Contains(lease.LeaseId))
                {
                    RecordAdoption(lease, holderId, adopterId);
                    changed = true;
                }
                else
                {
                    refused[lease.LeaseId] = LicensingErrors.LeaseUnknown;
                }
            }
        }

        return changed;
    }

    /// <summary>
    /// Fences a server (the safety model of docs/design.md): an entry of ours in its journal makes its next
    /// acknowledgement fail, then its leases as of that entry are read and held for fail-over. It counts as down until
    /// it rejoins through this grain, whatever membership says. False when its journal could not be written or read.
    /// </summary>
    private async Task<bool> FenceAsync(string serverId, ShareState share)
    {
        _fencing.Add(serverId);
        try
        {
            var storage = services.GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);
            var grainId = GrainFactory.GetServerGrain(serverId, Code).GetGrainId();
            var (_, book, _) = await ServerJournal.FenceAsync(storage, grainId, _options);
            share.Down = true;
            share.Fenced = true;
            share.Unread = false;
            share.Held = HeldLeases.Of(serverId, book.All, S.Adoptions, share.Allocated, DateTimeOffset.UtcNow, _options.LeaseTtl);
            LogFenced(Code, serverId, share.Allocated, share.Held.Values.Sum(h => h.Count));
            return true;
        }
        catch (Exception e)
        {
            LogFenceFailed(e, Code, serverId);
            return false;
        }
        finally
        {
            _fencing.Remove(serverId);
        }
    }

    /// <summary>
    /// Moves up to <paramref name="count"/> of a server's allocations to the free pool: a down server's unused ones at
    /// once, a live server's only as far as it gives them up. Returns how many moved.
    /// </summary>
    private async Task<int> ReclaimToFreePoolAsync(string serverId, ShareState share, int count, TransferMode mode, DateTimeOffset now)
    {
        int given;
        if (share.Down)
        {
            given = Math.Min(count, share.DownUnused(now));
            share.Allocated -= given;
        }
        else
        {
            given = await GiveUpAsync(serverId, count, mode);
        }

        S.FreePool += given;
        return given;
    }

    private async Task ApplyCriteriaAsync(DistributionCriteria criteria)
    {
        var now = DateTimeOffset.UtcNow;
        var up = S.Servers.Where(s => !s.Value.Down).Select(s => s.Key).OrderBy(s => s, StringComparer.Ordinal).ToList();
        var targets = DistributionPlanner.Targets(criteria, S.Total, S.Servers.Keys.ToList(), up);
        S.Criteria = criteria;

        // Shrink first (a live server only gives what is unused), so that the free pool can fill the others.
        foreach (var (serverId, target) in targets.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var share = Share(serverId);
            share.BaseShare = target;
            share.Threshold = DistributionPlanner.ThresholdOf(criteria, serverId, _options.DefaultThreshold);
            var excess = share.Allocated - target;
            if (excess <= 0) continue;
            await ReclaimToFreePoolAsync(serverId, share, excess, TransferMode.Unused, now);
        }

        foreach (var (serverId, target) in targets.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var share = Share(serverId);
            var add = Math.Min(Math.Max(0, target - share.Allocated), S.FreePool);
            share.Allocated += add;
            S.FreePool -= add;
        }
    }

    /// <summary>
    /// Marks servers down or up from silo membership. A server that goes down is fenced and keeps, as held, the
    /// allocations of its leases that clients may still fail over with; the rest is a source at once. When its leases
    /// cannot be read, everything it has is held until they can be. A fenced server stays down until it rejoins.
    /// </summary>
    private async Task<bool> RefreshStatusAsync()
    {
        var snapshot = membership.CurrentSnapshot;
        var changed = false;
        foreach (var member in snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active && !string.IsNullOrEmpty(m.Name)))
        {
            if (!S.Servers.ContainsKey(member.Name))
            {
                Share(member.Name);
                changed = true;
            }
        }

        foreach (var (serverId, share) in S.Servers)
        {
            if (share.Down && share.Unread)
            {
                changed |= await FenceAsync(serverId, share);
                continue;
            }

            if (share.Fenced)
            {
                PokeIfActive(snapshot, serverId);
                continue;
            }

            var up = IsUp(snapshot, serverId, share);
            if (up == !share.Down) continue;
            changed = true;
            if (up)
            {
                share.Down = false;
                share.Held.Clear();
                LogServerUp(Code, serverId);
            }
            else if (!await FenceAsync(serverId, share))
            {
                MarkUnread(serverId, share);
            }
        }

        PruneAdoptions();
        return changed;
    }

    private void MarkUnread(string serverId, ShareState share)
    {
        share.Down = true;
        share.Unread = true;
        share.Held.Clear();
        LogServerDown(Code, serverId, share.Allocated, share.Allocated);
    }

    /// <summary>
    /// A fenced server whose silo is active (it was paused, or restarted) serves again once its grain reloads and
    /// rejoins: a message makes a stale activation fail its next write, or a fresh one activate and rejoin.
    /// </summary>
    private void PokeIfActive(ClusterMembershipSnapshot snapshot, string serverId)
    {
        var now = DateTimeOffset.UtcNow;
        if (_poked.TryGetValue(serverId, out var last) && now - last < TimeSpan.FromSeconds(2)) return;
        if (!snapshot.Members.Values.Any(m => m.Name == serverId && m.Status == SiloStatus.Active)) return;
        _poked[serverId] = now;
        _ = GrainFactory.GetServerGrain(serverId, Code).ApplySync(DurableSync());
    }

    private static bool IsUp(ClusterMembershipSnapshot snapshot, string serverId, ShareState share)
    {
        if (snapshot.Members.Values.Any(m => m.Name == serverId && m.Status == SiloStatus.Active))
        {
            share.RejoinedFrom = null;
            return true;
        }

        // Rejoined, but membership here has not caught up with that silo yet.
        return share.RejoinedFrom is { } address
            && snapshot.GetSiloStatus(SiloAddress.FromParsableString(address)) is not (SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping);
    }

    /// <summary>The lease is its adopter's now, until it would expire on this grain's clock (no other silo's).</summary>
    private void RecordAdoption(AdoptedLease lease, string holderId, string adopterId) =>
        S.Adoptions[lease.LeaseId] = new Adoption(holderId, adopterId, DateTimeOffset.UtcNow + _options.LeaseTtl, lease.ClientId, lease.Count);

    private void PruneAdoptions()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var id in S.Adoptions.Where(a => a.Value.ExpiresAt <= now).Select(a => a.Key).ToList()) S.Adoptions.Remove(id);
        foreach (var share in S.Servers.Values)
        {
            foreach (var id in share.Held.Where(h => h.Value.ExpiresAt <= now).Select(h => h.Key).ToList()) share.Held.Remove(id);
        }
    }

    private IReadOnlyList<AdoptedLease> ActiveAdoptions() =>
        [.. S.Adoptions.Select(a => new AdoptedLease(a.Key, a.Value.OriginServerId, a.Value.ExpiresAt, a.Value.AdopterServerId))];

    /// <summary>Writes the change, then sends the distribution criteria sync to every functioning server (claim 6).</summary>
    private async Task CommitAndSyncAsync()
    {
        S.Version++;
        try
        {
            // The provider may serialize on another thread after its first await, while an interleaved Rejoin changes
            // a share: it writes a copy taken now, on this grain's turn.
            state.State = copier.Copy(_live);
            _writing = true;
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            // InconsistentStateException means another activation wrote: ours is stale. Never swallow it.
            LogWriteFailed(e, Code);
            DeactivateOnIdle();
            StorageFailure.Throw(e);
        }
        finally
        {
            _writing = false;
        }

        RememberCommitted();
        _committedInTurn = true;
        await SendSyncAsync();
    }

    /// <summary>What storage holds now (just read or written): a rejoin is never told more than this.</summary>
    private void RememberCommitted()
    {
        _committed = S.Servers.ToDictionary(s => s.Key, s => s.Value.Allocated);
        _committedVersion = S.Version;
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogCommitted(Code, S.Version, S.FreePool, string.Join("; ", S.Servers.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
                $"{s.Key} {(s.Value.Down ? "down" : "up")} {s.Value.Allocated} held {s.Value.HeldCount(DateTimeOffset.UtcNow)}")));
        }
    }

    /// <summary>
    /// A leader turn is all-or-nothing: on any failure before its write, the state is what it was before the turn (plus
    /// the rejoins that interleaved); after its write, the grain reloads from storage.
    /// </summary>
    private async Task<T> TurnAsync<T>(Func<Task<T>> turn)
    {
        var before = copier.Copy(_live);
        _inTurn = true;
        _committedInTurn = false;
        _rejoinsInTurn.Clear();
        try
        {
            return await turn();
        }
        catch (Exception e)
        {
            LogTurnFailed(e, Code, _committedInTurn);
            if (_committedInTurn)
            {
                DeactivateOnIdle();
            }
            else
            {
                _live = before;
                foreach (var (serverId, siloAddress) in _rejoinsInTurn) ApplyRejoin(serverId, siloAddress);
            }

            throw;
        }
        finally
        {
            _inTurn = false;
            _rejoinsInTurn.Clear();
        }
    }


    private async Task SendSyncAsync()
    {
        var sync = SyncFor();
        foreach (var (serverId, _) in S.Servers.Where(s => !s.Value.Down))
        {
            try
            {
                await GrainFactory.GetServerGrain(serverId, Code).ApplySync(sync);
            }
            catch (Exception e)
            {
                LogSyncFailed(e, Code, serverId);
            }
        }
    }

    private DistributionSync SyncFor() => new(Snapshot(), ActiveAdoptions());

    private Distribution Snapshot()
    {
        var now = DateTimeOffset.UtcNow;
        return new Distribution(
            S.License!, S.Total, S.FreePool, S.Version,
            [.. S.Servers.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new ServerShare(
                s.Key, s.Value.Allocated, s.Value.InUse, s.Value.Threshold, s.Value.BaseShare,
                s.Value.Down ? ServerStatus.Down : ServerStatus.Up, s.Value.Down ? s.Value.HeldCount(now) : 0))],
            LeaderServerId);
    }

    private ShareState Share(string serverId)
    {
        if (!S.Servers.TryGetValue(serverId, out var share))
        {
            share = new ShareState { Threshold = DistributionPlanner.ThresholdOf(S.Criteria, serverId, _options.DefaultThreshold) };
            S.Servers[serverId] = share;
        }

        return share;
    }

    private void EnsureLicense()
    {
        if (S.License is null) throw new LicensingException(LicensingErrors.UnknownLicense, $"License code '{Code}' is unknown.");
    }

    private static LicensingException Invalid(string message) => new(LicensingErrors.InvalidRequest, message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Code} v{Version} committed: free {FreePool}; {Servers}")]
    private partial void LogCommitted(string code, long version, int freePool, string servers);

    [LoggerMessage(Level = LogLevel.Information, Message = "License code {Code} added with {Seats} seats")]
    private partial void LogLicenseAdded(string code, int seats);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Code}: {ServerId} borrowed {Granted} of {Count} ({Reason})")]
    private partial void LogBorrow(string code, string serverId, int count, int granted, BorrowReason reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: re-distributed {Moved} idle allocations to the free pool")]
    private partial void LogRedistributed(string code, int moved);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: stopping server {ServerId} handed {Given} unused allocations back to the free pool")]
    private partial void LogReleased(string code, string serverId, int given);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: server {ServerId} is down with {Allocated} allocations, {Held} held for its clients")]
    private partial void LogServerDown(string code, string serverId, int allocated, int held);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: took {Take} from down server {ServerId} ({Allocated} allocated, {Held} held) for {Taker}")]
    private partial void LogTookFromDown(string code, int take, string serverId, int allocated, int held, string taker);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: fenced server {ServerId} ({Allocated} allocated, {Held} held for its clients)")]
    private partial void LogFenced(string code, string serverId, int allocated, int held);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Code}: could not fence server {ServerId}; its allocations stay held")]
    private partial void LogFenceFailed(Exception e, string code, string serverId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: a leader turn failed (written: {Written}); its changes are undone")]
    private partial void LogTurnFailed(Exception e, string code, bool written);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: this leader activation is stale (another one wrote); it deactivates")]
    private partial void LogStale(string code);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Code}: server {ServerId} is up")]
    private partial void LogServerUp(string code, string serverId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: server {ServerId} did not answer a give-up")]
    private partial void LogGiveUpFailed(Exception e, string code, string serverId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Code}: sync to {ServerId} failed")]
    private partial void LogSyncFailed(Exception e, string code, string serverId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Code}: writing the distribution failed; the leader restarts from storage")]
    private partial void LogWriteFailed(Exception e, string code);
}
