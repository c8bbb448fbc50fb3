namespace Orleans.Licensing;

/// <summary>One storage record of a server's leases.</summary>
[GenerateSerializer, Alias("Orleans.Licensing.LeasePage")]
public sealed class LeasePage
{
    [Id(0)] public Dictionary<string, LeaseRecord> Leases { get; set; } = [];
}
