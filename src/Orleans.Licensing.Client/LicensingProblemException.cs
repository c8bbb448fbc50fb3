namespace Orleans.Licensing.Client;

/// <summary>A license server refused the request (a 4xx problem details answer). Retrying elsewhere will not help.</summary>
public sealed class LicensingProblemException(int status, ProblemInfo problem, Uri server)
    : Exception($"{server} refused the request ({status} {problem.Error}): {problem.Detail ?? problem.Title}")
{
    public int Status { get; } = status;

    public ProblemInfo Problem { get; } = problem;

    /// <summary>The stable error code, e.g. <c>no-allocation</c>, <c>unknown-license</c>, <c>lease-unknown</c>.</summary>
    public string Error { get; } = problem.Error ?? problem.Type?.Split('/').LastOrDefault() ?? "unknown";

    public Uri Server { get; } = server;
}

/// <summary>No license server of the list answered (all unreachable, timing out or failing with 5xx).</summary>
public sealed class LicensingUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
