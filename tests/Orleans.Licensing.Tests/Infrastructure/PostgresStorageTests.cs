using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Licensing.Storage;
using Orleans.Storage;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>One license server on the PostgreSQL grain storage, for tests of the storage contract itself.</summary>
public sealed class PostgresStorageFixture : IAsyncLifetime
{
    public PoolCluster Pool { get; } = new(1, o => o.RedistributeInterval = TimeSpan.Zero);

    public Task InitializeAsync() => TestStorage.IsPostgres ? Pool.StartAsync() : Task.CompletedTask;

    public Task DisposeAsync() => Pool.DisposeAsync().AsTask();
}

/// <summary>
/// What the grains rely on from <see cref="PostgresGrainStorage"/> over our sql/ scripts: records per state name
/// ("server", "leases-N", read and written through <see cref="IGrainStorage"/> directly), int versions as ETags,
/// <see cref="InconsistentStateException"/> on every stale write or clear, never a silent overwrite, also when the
/// write shares its batch with other grains' writes.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class PostgresStorageTests(PostgresStorageFixture fixture) : IClassFixture<PostgresStorageFixture>
{
    private IGrainStorage Storage => fixture.Pool.Service<IServiceProvider>(fixture.Pool.ServerIds[0])
        .GetRequiredKeyedService<IGrainStorage>(LicensingOptions.StorageName);

    private string ServiceId => fixture.Pool.Service<IOptions<ClusterOptions>>(fixture.Pool.ServerIds[0]).Value.ServiceId;

    private GrainId NewServerGrainId() => fixture.Pool.Server("server-a", PoolCluster.NewCode()).GetGrainId();

    private static LeasePage Page(params (string Id, int Count)[] leases) => new()
    {
        Leases = leases.ToDictionary(
            l => l.Id,
            l => new LeaseRecord(l.Id, "client-" + l.Id, l.Count, new DateTimeOffset(2030, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(2)))),
    };

    [PostgresFact]
    public async Task The_silos_use_the_batching_provider_and_concurrent_writes_of_many_grains_share_batches()
    {
        var storage = Assert.IsType<PostgresGrainStorage>(Storage);
        var grains = Enumerable.Range(0, 64).Select(_ => NewServerGrainId()).ToList();
        var before = storage.Sent;

        // 64 grains write at once, 3 times each (each waits for its own previous write, as a grain does).
        await Task.WhenAll(grains.Select(async grainId =>
        {
            var state = new GrainState<LeasePage>(Page(("a", 1)));
            for (var i = 0; i < 3; i++)
            {
                state.State = Page(("a", 1 + i));
                await Storage.WriteStateAsync("journal-0", grainId, state);
            }

            Assert.Equal("3", state.ETag);
        }));

        var after = storage.Sent;
        Assert.Equal(64 * 3, after.Writes - before.Writes);
        Assert.True(after.Batches - before.Batches < 64 * 3, $"{after.Batches - before.Batches} batches for {64 * 3} writes: none shared");
        foreach (var grainId in grains)
        {
            var read = new GrainState<LeasePage>(new LeasePage());
            await Storage.ReadStateAsync("journal-0", grainId, read);
            Assert.Equal(("3", 3), (read.ETag, read.State!.Leases["a"].Count));
        }
    }

    [PostgresFact]
    public async Task A_stale_write_fails_alone_among_concurrent_writes_of_other_grains()
    {
        var stale = NewServerGrainId();
        var staleState = new GrainState<LeasePage>(Page(("s", 1)));
        await Storage.WriteStateAsync("server", stale, staleState);
        var winner = new GrainState<LeasePage>(Page(("w", 1)), staleState.ETag) { RecordExists = true };
        await Storage.WriteStateAsync("server", stale, winner);

        // The stale write goes out among 20 good ones of other grains (in the same batches, mostly): only it fails.
        var others = Enumerable.Range(0, 20).Select(_ => (Id: NewServerGrainId(), State: new GrainState<LeasePage>(Page(("o", 2))))).ToList();
        var writes = others.Select(o => Capture(() => Storage.WriteStateAsync("server", o.Id, o.State))).ToList();
        var staleWrite = Capture(() => Storage.WriteStateAsync("server", stale, staleState));
        await Task.WhenAll(writes.Append(staleWrite));

        Assert.IsType<InconsistentStateException>(await staleWrite);
        Assert.All(writes, w => Assert.Null(w.Result));
        Assert.All(others, o => Assert.Equal("1", o.State.ETag));
        var read = new GrainState<LeasePage>(new LeasePage());
        await Storage.ReadStateAsync("server", stale, read);
        Assert.Equal("2", read.ETag);
        Assert.Equal(["w"], read.State!.Leases.Keys);
    }

    [PostgresFact]
    public async Task Each_state_name_of_a_grain_is_its_own_record_with_its_own_version()
    {
        var grainId = NewServerGrainId();
        var record = new ServerRecord
        {
            Allocated = 7,
            Threshold = 0.75,
            BaseShare = 5,
            AppliedVersion = 42,
            License = new LicenseCode("c", "product", 10, new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero)),
            LeasePages = 16,
            RecentGiveUps = [new GiveUpResult(Guid.NewGuid(), 2, 3)],
            Sequence = 9,
        };
        var server = new GrainState<ServerRecord>(record);
        var first = new GrainState<LeasePage>(Page(("a", 1), ("b", 2)));
        var last = new GrainState<LeasePage>(Page(("z", 3)));
        await Storage.WriteStateAsync("server", grainId, server);
        await Storage.WriteStateAsync(LeaseBook.PageName(0), grainId, first);
        await Storage.WriteStateAsync(LeaseBook.PageName(15), grainId, last);
        await Storage.WriteStateAsync(LeaseBook.PageName(0), grainId, first);
        Assert.Equal(["1", "2", "1"], new[] { server.ETag!, first.ETag!, last.ETag! });

        var readServer = new GrainState<ServerRecord>(new ServerRecord());
        await Storage.ReadStateAsync("server", grainId, readServer);
        Assert.True(readServer.RecordExists);
        Assert.Equal("1", readServer.ETag);
        Assert.Equal(record with { RecentGiveUps = readServer.State!.RecentGiveUps, MovedAway = readServer.State.MovedAway }, readServer.State);
        Assert.Empty(readServer.State.MovedAway);
        Assert.Equal(record.RecentGiveUps, readServer.State.RecentGiveUps);

        var book = await LeaseBook.LoadAsync(Storage, grainId, 16);
        Assert.Equal(["a", "b", "z"], book.All.Select(l => l.LeaseId).Order(StringComparer.Ordinal));
        Assert.Equal(6, book.InUse);
        Assert.Equal(Page(("b", 2)).Leases["b"], book.All.Single(l => l.LeaseId == "b"));

        var missing = new GrainState<LeasePage>(new LeasePage());
        await Storage.ReadStateAsync(LeaseBook.PageName(7), grainId, missing);
        Assert.False(missing.RecordExists);
        Assert.Null(missing.ETag);
        Assert.Empty(missing.State!.Leases);

        await using var connection = new NpgsqlConnection(TestStorage.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT state_name, version FROM licensing_grain_state WHERE service_id = @s AND grain_id = @g ORDER BY 1", connection);
        command.Parameters.AddWithValue("s", ServiceId);
        command.Parameters.AddWithValue("g", grainId.ToString());
        var rows = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) rows.Add($"{reader.GetString(0)}={reader.GetInt32(1)}");
        }

        Assert.Equal(["leases-0=2", "leases-15=1", "server=1"], rows);
    }

    [PostgresFact]
    public async Task A_write_with_a_stale_version_throws_InconsistentStateException_and_changes_nothing()
    {
        var grainId = NewServerGrainId();
        await Storage.WriteStateAsync("leases-3", grainId, new GrainState<LeasePage>(Page(("a", 1))));
        var stale = new GrainState<LeasePage>(new LeasePage());
        var current = new GrainState<LeasePage>(new LeasePage());
        await Storage.ReadStateAsync("leases-3", grainId, stale);
        await Storage.ReadStateAsync("leases-3", grainId, current);
        current.State = Page(("a", 1), ("b", 1));
        await Storage.WriteStateAsync("leases-3", grainId, current);

        stale.State = Page(("c", 1));
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("leases-3", grainId, stale));
        Assert.Equal("1", stale.ETag);

        var read = new GrainState<LeasePage>(new LeasePage());
        await Storage.ReadStateAsync("leases-3", grainId, read);
        Assert.Equal("2", read.ETag);
        Assert.Equal(["a", "b"], read.State!.Leases.Keys.Order(StringComparer.Ordinal));
    }

    [PostgresFact]
    public async Task Of_two_first_writes_without_a_version_only_one_succeeds()
    {
        var grainId = NewServerGrainId();
        var one = new GrainState<LeasePage>(Page(("one", 1)));
        var two = new GrainState<LeasePage>(Page(("two", 1)));
        var results = await Task.WhenAll(
            Capture(() => Storage.WriteStateAsync("leases-1", grainId, one)),
            Capture(() => Storage.WriteStateAsync("leases-1", grainId, two)));
        Assert.Single(results, e => e is null);
        Assert.IsType<InconsistentStateException>(Assert.Single(results, e => e is not null));

        var read = new GrainState<LeasePage>(new LeasePage());
        await Storage.ReadStateAsync("leases-1", grainId, read);
        Assert.Equal("1", read.ETag);
        Assert.Single(read.State!.Leases);
    }

    [PostgresFact]
    public async Task A_clear_keeps_a_version_and_a_stale_clear_throws()
    {
        var grainId = NewServerGrainId();
        var state = new GrainState<LeasePage>(Page(("a", 1)));
        await Storage.WriteStateAsync("leases-2", grainId, state);
        var stale = new GrainState<LeasePage>(new LeasePage(), "1") { RecordExists = true };
        await Storage.WriteStateAsync("leases-2", grainId, state);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearStateAsync("leases-2", grainId, stale));

        await Storage.ClearStateAsync("leases-2", grainId, state);
        Assert.False(state.RecordExists);
        Assert.Equal("3", state.ETag);

        var read = new GrainState<LeasePage>(new LeasePage());
        await Storage.ReadStateAsync("leases-2", grainId, read);
        Assert.False(read.RecordExists);
        Assert.Equal("3", read.ETag);
        Assert.Empty(read.State!.Leases);

        read.State = Page(("b", 1));
        await Storage.WriteStateAsync("leases-2", grainId, read);
        Assert.Equal("4", read.ETag);
    }

    private static async Task<Exception?> Capture(Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
