namespace Orleans.Licensing.Cli;

/// <summary>Exit codes of <c>licensing</c>: scripts can tell a refusal from an outage.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Bad arguments (also what System.CommandLine returns for a parse error).</summary>
    public const int Usage = 1;

    /// <summary>The server refused the request as invalid (400 invalid-request).</summary>
    public const int Invalid = 2;

    /// <summary>Unknown license code or lease (404 unknown-license, lease-unknown).</summary>
    public const int NotFound = 3;

    /// <summary>No allocation, a conflict, an expired license code, a refused grant, or a credential that may not do this (409, 403).</summary>
    public const int Refused = 4;

    /// <summary>No license server answered.</summary>
    public const int Unavailable = 5;

    /// <summary>No credential, or one the server does not know (401 unauthenticated).</summary>
    public const int Unauthenticated = 6;

    public static int ForStatus(int status) => status switch
    {
        401 => Unauthenticated,
        404 => NotFound,
        409 or 403 => Refused,
        _ => Invalid,
    };
}
