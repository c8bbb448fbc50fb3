using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using Orleans.Storage;

namespace Orleans.Licensing;

/// <summary>
/// A storage provider's own exception (an NpgsqlException, say) has no Orleans codec: sent to a caller on another silo
/// it arrives as a CodecNotFoundException and an HTTP 500. Callers get a stable "unavailable" error instead; a version
/// conflict stays an <see cref="InconsistentStateException"/>, which Orleans carries and callers act on.
/// </summary>
internal static class StorageFailure
{
    /// <summary>Throws what a caller should hear of a failed write: the exception itself (with its stack) or "unavailable".</summary>
    [DoesNotReturn]
    public static void Throw(Exception e)
    {
        if (e is InconsistentStateException or LicensingException) ExceptionDispatchInfo.Throw(e);
        throw new LicensingException(LicensingErrors.Unavailable, $"The license store failed: {e.GetType().Name}: {e.Message}");
    }
}
