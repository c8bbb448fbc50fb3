using Orleans.Licensing.Server.Tests.Infrastructure;

namespace Orleans.Licensing.Server.Tests.Hostile;

/// <summary>Who a hostile request claims to be. Cases name a role; the keys come from the lead's TestSecurity.</summary>
public enum Cred
{
    /// <summary>No credential at all (or only the raw headers the case sets itself).</summary>
    None,
    Admin,
    Reader,

    /// <summary>A client key covering every client id (<c>*</c>).</summary>
    Client,

    /// <summary>A client key covering only <c>tenant-b-*</c>.</summary>
    TenantB,
}

/// <summary>Parts of issue 10 that a case needs before it can be asserted.</summary>
[Flags]
public enum Needs
{
    None = 0,

    /// <summary>API keys and roles (401/403 answers).</summary>
    Auth = 1,

    /// <summary>Vendor-signed grants for add-code and add-allocations.</summary>
    Grants = 2,
}

/// <summary>
/// The one place where the suite meets the security layer (issue 10). Until the lead's part is on main the server is
/// open: every role sends no credential and the cases that need keys or grants are reported as pending.
/// </summary>
public static class HostileSecurity
{
    public static Needs Available => Needs.None;

    public static HttpClient CreateHttpClient(ServerProcess server, Cred cred) => server.CreateHttpClient();

    /// <summary>A well-formed key that no server trusts.</summary>
    public const string UnknownKey = "olk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    public static string Key(Cred cred) => $"olk_stub{cred}".PadRight(47, 'A');

    /// <summary>Signs a grant payload (JSON) with the trusted test vendor key: <c>olg1.payload.signature</c>.</summary>
    public static string Sign(string payloadJson) => throw new NotSupportedException("Signed grants are not on main yet.");

    /// <summary>Signs with a key pair no server trusts, under the trusted key's id (a wrong-key forgery).</summary>
    public static string SignWithUntrustedKey(string payloadJson) => throw new NotSupportedException("Signed grants are not on main yet.");

    /// <summary>The id of the trusted test vendor key.</summary>
    public static string VendorKeyId => "test-vendor";
}
