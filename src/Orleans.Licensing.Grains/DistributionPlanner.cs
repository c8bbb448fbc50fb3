namespace Orleans.Licensing;

/// <summary>Turns distribution criteria into a target share per server (claims 7, 32). Pure, so it is unit-tested alone.</summary>
public static class DistributionPlanner
{
    public const double MinThreshold = 0.01;

    /// <summary>Checks criteria against the total; throws <see cref="LicensingException"/> (invalid-request) when they cannot apply.</summary>
    public static void Validate(DistributionCriteria criteria, int total)
    {
        var modes = (criteria.Shares is not null ? 1 : 0) + (criteria.Weights is not null ? 1 : 0) + (criteria.Even ? 1 : 0);
        if (modes > 1) Invalid("Give explicit shares, weights or even, not more than one.");
        if (criteria.FreePoolReserve < 0 || criteria.FreePoolReserve > total) Invalid($"The free pool reserve must be between 0 and {total}.");
        if (criteria.Shares is { } shares)
        {
            if (shares.Any(s => s.Value < 0)) Invalid("Shares cannot be negative.");
            if (shares.Values.Sum(v => (long)v) > total - criteria.FreePoolReserve) Invalid($"Shares add up to more than the {total - criteria.FreePoolReserve} allocations there are to share.");
        }

        if (criteria.Weights is { } weights && (weights.Count == 0 || weights.Any(w => w.Value < 0) || weights.Values.Sum(v => (long)v) == 0))
            Invalid("Weights must be non-negative and not all zero.");
        if (criteria.DefaultThreshold is { } t && !ValidThreshold(t)) Invalid("A threshold must be in (0, 1].");
        if (criteria.Thresholds?.Values.Any(v => !ValidThreshold(v)) == true) Invalid("A threshold must be in (0, 1].");
        var ids = (criteria.Shares?.Keys ?? []).Concat(criteria.Weights?.Keys ?? []).Concat(criteria.Thresholds?.Keys ?? []);
        if (ids.Any(id => string.IsNullOrWhiteSpace(id) || id.Contains('/'))) Invalid("Server ids must be non-empty and contain no '/'.");
    }

    /// <summary>
    /// The target share of each server. Servers the criteria do not name get zero; what is not given out stays in the
    /// free pool. <paramref name="upServers"/> are the functioning servers, among whom "even" splits.
    /// </summary>
    public static Dictionary<string, int> Targets(DistributionCriteria criteria, int total, IEnumerable<string> knownServers, IReadOnlyCollection<string> upServers)
    {
        var targets = knownServers.ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
        var distributable = total - criteria.FreePoolReserve;
        if (criteria.Shares is { } shares)
        {
            foreach (var (server, share) in shares) targets[server] = share;
        }
        else if (criteria.Weights is { } weights)
        {
            var sum = weights.Values.Sum(v => (long)v);
            foreach (var (server, weight) in weights) targets[server] = (int)(distributable * (long)weight / sum);
        }
        else if (criteria.Even && upServers.Count > 0)
        {
            foreach (var server in upServers) targets[server] = distributable / upServers.Count;
        }

        return targets;
    }

    public static double ThresholdOf(DistributionCriteria? criteria, string serverId, double fallback) =>
        criteria?.Thresholds?.GetValueOrDefault(serverId) is { } t and > 0 ? t : criteria?.DefaultThreshold ?? fallback;

    private static bool ValidThreshold(double t) => t >= MinThreshold && t <= 1.0;

    private static void Invalid(string message) => throw new LicensingException(LicensingErrors.InvalidRequest, message);
}
