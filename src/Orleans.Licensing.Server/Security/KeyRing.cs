using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// The API keys and vendor keys this server trusts now: those of configuration (<see cref="SecurityOptions"/>) and of
/// its keys file (<see cref="KeysFile"/>: fails closed), read again when either changes (checked at most once a
/// second), so keys rotate and are revoked without a restart.
/// </summary>
public sealed partial class KeyRing(IConfiguration configuration, ILogger<KeyRing> logger)
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);
    private readonly Lock _lock = new();
    private Snapshot? _current;
    private long _checkedAt;
    private SecurityOptions _fileKeys = new();
    private readonly KeysFile _file = new(logger);

    /// <summary>Set by <see cref="LocalKeys"/> when it generated the keys: used when no keys file is configured.</summary>
    public string? LocalKeysFile { get; set; }

    public SecurityOptions Options => Current.Options;

    /// <summary>The snapshot of keys now trusted: a new object at every reload, so a cache tied to it misses after one.</summary>
    public object Generation => Current;

    public ApiKeyEntry? FindApiKey(string key, DateTimeOffset now) =>
        Current.ApiKeys.TryGetValue(ApiKeys.Hash(key), out var entry) && (entry.NotAfter is null || entry.NotAfter > now) ? entry : null;

    public IReadOnlyList<TrustedVendorKey> VendorKeys => Current.VendorKeys;

    private Snapshot Current
    {
        get
        {
            var now = Environment.TickCount64;
            if (_current is { } current && now - Volatile.Read(ref _checkedAt) < CheckEvery.TotalMilliseconds) return current;
            lock (_lock)
            {
                if (_current is null || now - _checkedAt >= CheckEvery.TotalMilliseconds) Reload();
                _checkedAt = now;
                return _current!;
            }
        }
    }

    /// <summary>What configuration and the keys file hold, without generated keys (to decide whether to generate).</summary>
    public static SecurityOptions Configured(IConfiguration configuration) =>
        configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>() ?? new SecurityOptions();

    private void Reload()
    {
        var options = Configured(configuration);
        if ((options.KeysFile ?? LocalKeysFile) is { } file)
        {
            _fileKeys = _file.Read(file, options.KeysFileGrace);
            options.ApiKeys.AddRange(_fileKeys.ApiKeys);
            options.VendorKeys.AddRange(_fileKeys.VendorKeys);
        }

        var snapshot = new Snapshot(
            options,
            options.ApiKeys.Where(k => !string.IsNullOrEmpty(k.Hash)).GroupBy(k => k.Hash.ToLowerInvariant()).ToDictionary(g => g.Key, g => g.First()),
            [.. options.VendorKeys.Select(k => new TrustedVendorKey(k.Id, k.PublicKey, k.NotAfter))]);
        if (_current is null || snapshot.ApiKeys.Count != _current.ApiKeys.Count || snapshot.VendorKeys.Count != _current.VendorKeys.Count)
        {
            LogKeys(snapshot.ApiKeys.Count, snapshot.VendorKeys.Count);
        }

        _current = snapshot;
    }

    private sealed record Snapshot(SecurityOptions Options, IReadOnlyDictionary<string, ApiKeyEntry> ApiKeys, IReadOnlyList<TrustedVendorKey> VendorKeys);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trusting {ApiKeys} API keys and {VendorKeys} vendor keys")]
    private partial void LogKeys(int apiKeys, int vendorKeys);
}
