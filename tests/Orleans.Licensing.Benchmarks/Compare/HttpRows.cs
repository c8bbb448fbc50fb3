namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>
/// The HTTP rows of `compare`: the defaults, and one per knob with a measured cost, each on fresh server processes.
/// <c>--http-rows default,log-off,rate-limit-off,proxy</c> (the default) picks them; <c>--http-env K=V,K=V</c> adds
/// server settings (environment variables, e.g. <c>Licensing__UsageLog__HeartbeatSampleInterval=0</c>) to every row.
/// </summary>
internal sealed record HttpRows(string Name, string Variant, IReadOnlyDictionary<string, string> Environment, bool ViaProxy)
{
    public const string Default = "ours-http";
    public const string LogOff = "ours-http-log-off";
    public const string RateLimitOff = "ours-http-rate-limit-off";
    public const string Proxy = "ours-http-proxy";

    public static IReadOnlyList<HttpRows> Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var extra = (Value("--http-env") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
        var suffix = extra.Count == 0 ? "" : ", " + string.Join(", ", extra.Select(kv => $"{kv.Key}={kv.Value}"));
        Dictionary<string, string> With(params (string Key, string Value)[] settings) =>
            extra.Concat(settings.Select(s => KeyValuePair.Create(s.Key, s.Value))).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value);

        var all = new Dictionary<string, HttpRows>
        {
            ["default"] = new(Default, "default settings" + suffix, With(), false),
            ["log-off"] = new(LogOff, "usage log off: Licensing__UsageLog__Enabled=false" + suffix, With(("Licensing__UsageLog__Enabled", "false")), false),
            ["rate-limit-off"] = new(RateLimitOff, "lease rate limit off: Licensing__LeaseRateLimit=false" + suffix, With(("Licensing__LeaseRateLimit", "false")), false),
            ["proxy"] = new(Proxy, "default settings" + suffix, With(), true),
        };
        var picked = (Value("--http-rows") ?? "default,log-off,rate-limit-off,proxy").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return [.. picked.Select(p => all.TryGetValue(p, out var row) ? row : throw new ArgumentException($"--http-rows: unknown row '{p}' (rows: {string.Join(", ", all.Keys)})"))];
    }
}
