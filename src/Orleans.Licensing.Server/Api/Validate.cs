namespace Orleans.Licensing.Server.Api;

/// <summary>Input checks done before any grain is called, so that bad input activates and changes nothing.</summary>
public static class Validate
{
    public const int MaxCount = 100_000_000;

    public static string Code(string? code)
    {
        if (string.IsNullOrWhiteSpace(code) || code.Length > 200 || code.Contains('/') || code.Any(char.IsControl))
            throw Problems.Invalid("A license code must be 1 to 200 characters with no '/'.");
        return code;
    }

    public static string LeaseId(string? leaseId)
    {
        if (string.IsNullOrWhiteSpace(leaseId) || leaseId.Length > 128 || leaseId.Any(char.IsControl))
            throw Problems.Invalid("A lease id of 1 to 128 characters is required.");
        return leaseId;
    }

    public static string ClientId(string? clientId)
    {
        if (string.IsNullOrWhiteSpace(clientId) || clientId.Length > 256)
            throw Problems.Invalid("A client id of 1 to 256 characters is required.");
        return clientId;
    }

    public static string ServerId(string? serverId)
    {
        if (string.IsNullOrWhiteSpace(serverId) || serverId.Length > 200 || serverId.Contains('/'))
            throw Problems.Invalid("A server id of 1 to 200 characters with no '/' is required.");
        return serverId;
    }

    public static int Count(int count, string what = "Count")
    {
        if (count < 1 || count > MaxCount) throw Problems.Invalid($"{what} must be between 1 and {MaxCount}.");
        return count;
    }
}
