namespace Orleans.Licensing;

/// <summary>Refuses settings the pool cannot run with, at start, with the setting's name (configuration "Licensing").</summary>
internal sealed class LicensingOptionsValidator : IValidateOptions<LicensingOptions>
{
    public ValidateOptionsResult Validate(string? name, LicensingOptions o)
    {
        var errors = new List<string>();
        if (o.LeaseTtl <= TimeSpan.Zero) errors.Add("Licensing:LeaseTtl must be positive.");
        if (o.SweepInterval <= TimeSpan.Zero) errors.Add("Licensing:SweepInterval must be positive.");
        if (o.SyncCheckInterval <= TimeSpan.Zero) errors.Add("Licensing:SyncCheckInterval must be positive.");
        if (o.RedistributeInterval < TimeSpan.Zero) errors.Add("Licensing:RedistributeInterval must be zero (off) or positive.");
        if (o.GiveUpTimeout <= TimeSpan.Zero) errors.Add("Licensing:GiveUpTimeout must be positive.");
        if (o.PoolId is { Length: > 0 } poolId && (poolId.Trim().Length is 0 or > 128 || poolId.Any(char.IsControl))) errors.Add("Licensing:PoolId must be 1 to 128 characters.");
        if (o.DenialHold < TimeSpan.Zero) errors.Add("Licensing:DenialHold must be zero or positive.");
        if (o.DefaultThreshold is < DistributionPlanner.MinThreshold or > 1.0 || double.IsNaN(o.DefaultThreshold))
            errors.Add($"Licensing:DefaultThreshold must be between {DistributionPlanner.MinThreshold} and 1.");
        if (o.MinBorrow < 1) errors.Add("Licensing:MinBorrow must be at least 1.");
        if (o.LeasePages is < 1 or > 4096) errors.Add("Licensing:LeasePages must be between 1 and 4096.");
        if (o.JournalSlots is < 4 or > 4096) errors.Add("Licensing:JournalSlots must be between 4 and 4096.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
