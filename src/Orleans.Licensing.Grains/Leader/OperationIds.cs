using System.Security.Cryptography;
using System.Text;

namespace Orleans.Licensing;

/// <summary>
/// The id of a give-up, derived from the borrow it serves: when the leader's write fails after a server gave allocations
/// up (or dropped leases that moved), the retried borrow asks again under the same id, and the server answers what it
/// did the first time instead of finding nothing left to give.
/// </summary>
internal static class OperationIds
{
    public static Guid GiveUp(Guid borrow, string serverId, GiveUpMode mode)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{borrow:N}/{serverId}/{mode}"), hash);
        return new Guid(hash[..16]);
    }
}
