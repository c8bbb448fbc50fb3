using System.Diagnostics.Metrics;
using System.Text.Json;
using Orleans.Licensing.Usage;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// Reads the keys file (<see cref="SecurityOptions.KeysFile"/>) for <see cref="KeyRing"/>, failing closed: an entry that
/// was removed or cannot be read stops working at the next read; a file that cannot be read or parsed keeps its last
/// valid keys only for the grace (<see cref="SecurityOptions.KeysFileGrace"/>), after which its keys are dropped. Each
/// failed read is logged and counted (<c>licensing.keys_file.unreadable</c>).
/// </summary>
public sealed partial class KeysFile(ILogger logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static readonly Counter<long> Unreadable = LicensingTelemetry.Meter.CreateCounter<long>(
        "licensing.keys_file.unreadable", "{read}", "Reads of the keys file that failed (missing, unreadable or not valid JSON)");

    private static readonly Counter<long> Dropped = LicensingTelemetry.Meter.CreateCounter<long>(
        "licensing.keys_file.dropped", "{event}", "Times the keys file stayed unreadable past the grace and its keys were dropped");

    private SecurityOptions _last = new();
    private long? _failingSince;
    private bool _dropped;

    /// <summary>The file's keys now: as read, the last valid ones within the grace, or none.</summary>
    public SecurityOptions Read(string path, TimeSpan grace)
    {
        var now = Environment.TickCount64;
        try
        {
            _last = Parse(path, File.ReadAllText(path));
            if (_failingSince is not null) LogKeysFileReadable(path);
            (_failingSince, _dropped) = (null, false);
            return _last;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            Unreadable.Add(1);
            _failingSince ??= now;
            if (now - _failingSince.Value < grace.TotalMilliseconds)
            {
                LogKeysFileUnreadable(e, path, grace);
                return _last;
            }

            if (!_dropped)
            {
                Dropped.Add(1);
                LogKeysFileDropped(path, grace);
                _dropped = true;
            }

            return new SecurityOptions();
        }
    }

    /// <summary>Entry by entry: one unreadable entry (a mistyped field) is skipped, not the whole file.</summary>
    private SecurityOptions Parse(string path, string text)
    {
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("The keys file must hold one JSON object.");
        return new SecurityOptions
        {
            ApiKeys = Entries<ApiKeyEntry>(path, document.RootElement, nameof(SecurityOptions.ApiKeys), e => e.MaxSeats is null or >= 0),
            VendorKeys = Entries<VendorKeyEntry>(path, document.RootElement, nameof(SecurityOptions.VendorKeys), _ => true),
        };
    }

    private List<T> Entries<T>(string path, JsonElement root, string name, Func<T, bool> valid)
    {
        var list = new List<T>();
        var property = root.EnumerateObject().FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (property.Value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return list;
        if (property.Value.ValueKind != JsonValueKind.Array) throw new JsonException($"'{name}' must be an array.");
        var index = 0;
        foreach (var element in property.Value.EnumerateArray())
        {
            T? entry;
            try
            {
                entry = element.Deserialize<T>(Json);
            }
            catch (JsonException)
            {
                entry = default;
            }

            if (entry is not null && valid(entry)) list.Add(entry);
            else LogEntryUnreadable(path, name, index);
            index++;
        }

        return list;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The keys file {Path} cannot be read now; keeping the keys read before for at most {Grace}")]
    private partial void LogKeysFileUnreadable(Exception e, string path, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Error, Message = "The keys file {Path} stayed unreadable for more than {Grace}: its keys are dropped (configured keys still work)")]
    private partial void LogKeysFileDropped(string path, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Information, Message = "The keys file {Path} is readable again")]
    private partial void LogKeysFileReadable(string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The keys file {Path}: entry {Index} of {Name} cannot be read and is not trusted")]
    private partial void LogEntryUnreadable(string path, string name, int index);
}
