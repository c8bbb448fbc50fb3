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

    /// <summary>
    /// Program.cs registers <c>ProblemJsonWriter</c> (framework 404/405 as problem+json whatever the Accept header).
    /// </summary>
    ProblemWriter = 4,
}

/// <summary>The one place where the suite meets the security layer (issue 10): the lead's <see cref="TestSecurity"/>.</summary>
public static class HostileSecurity
{
    public static Needs Available => Needs.Auth | Needs.Grants | Needs.ProblemWriter;

    public static TestRole Role(Cred cred) => cred switch
    {
        Cred.Admin => TestRole.Admin,
        Cred.Reader => TestRole.Reader,
        Cred.Client => TestRole.Client,
        Cred.TenantB => TestRole.TenantB,
        _ => TestRole.None,
    };

    public static HttpClient CreateHttpClient(ServerProcess server, Cred cred) => server.CreateHttpClient(Role(cred));

    /// <summary>A well-formed key that no server trusts.</summary>
    public const string UnknownKey = "olk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    public static string Key(Cred cred) => TestSecurity.KeyOf(Role(cred)) ?? throw new ArgumentException("No key for " + cred, nameof(cred));

    /// <summary>Signs a grant payload (JSON) with the trusted test vendor key: <c>olg1.payload.signature</c>.</summary>
    public static string Sign(string payloadJson) => TestSecurity.SignPayload(payloadJson);

    /// <summary>Signs with a key pair no server trusts, under the trusted key's id (a wrong-key forgery).</summary>
    public static string SignWithUntrustedKey(string payloadJson) => TestSecurity.SignPayload(payloadJson, TestSecurity.UnknownVendor);

    /// <summary>Signs with the key the servers trusted until yesterday (its NotAfter is past).</summary>
    public static string SignWithRetiredKey(string payloadJson) => TestSecurity.SignPayload(payloadJson, TestSecurity.RetiredVendor);

    public static string VendorKeyId => TestSecurity.Vendor.KeyId;

    /// <summary>The pool id of the servers under test (grants name it).</summary>
    public static string PoolId => TestSecurity.PoolId;

    public static string RetiredKeyId => TestSecurity.RetiredVendor.KeyId;
}
