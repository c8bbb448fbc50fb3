namespace Orleans.Licensing.Grants;

/// <summary>Which vendor keys a server trusts, as it says on /readyz, the pool read and the usage report.</summary>
public enum TrustMode
{
    /// <summary>The open build: the keys of configuration and the keys file.</summary>
    ConfiguredKeys,

    /// <summary>A vendor build: only the keys pinned into the build; configuration may retire one, never add one.</summary>
    VendorKeys,

    /// <summary>Zero setup: the local keys of the data folder, whose seats are capped (<see cref="TrialLimit"/>).</summary>
    TrialKeys,
}

public static class TrustModes
{
    /// <summary>"configured keys", "vendor keys", "trial keys".</summary>
    public static string Describe(this TrustMode mode) => mode switch
    {
        TrustMode.VendorKeys => "vendor keys",
        TrustMode.TrialKeys => "trial keys",
        _ => "configured keys",
    };
}
