using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// A storage provider's own exception (an NpgsqlException, say) has no Orleans codec: sent to a caller on another silo
/// it arrives as a CodecNotFoundException and an HTTP 500. Callers get a stable "unavailable" error instead; a version
/// conflict stays an <see cref="InconsistentStateException"/>, which Orleans carries and callers act on.
/// </summary>
internal static partial class StorageFailure
{
    /// <summary>
    /// Throws what a caller should hear of a failed write: the exception itself (with its stack) or "unavailable", with
    /// a fixed text. The store's own message (host names, SQL, paths) goes to <paramref name="log"/> only.
    /// </summary>
    [DoesNotReturn]
    public static void Throw(Exception e, ILogger? log)
    {
        if (e is InconsistentStateException or LicensingException) ExceptionDispatchInfo.Throw(e);
        if (log is not null) LogStoreFailed(log, e, e.GetType().Name);
        throw new LicensingException(LicensingErrors.Unavailable, "The license store failed; the server's log says why. Retry, or use another license server.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The license store failed ({ExceptionType}); callers are answered 'unavailable'")]
    private static partial void LogStoreFailed(ILogger log, Exception e, string exceptionType);
}
