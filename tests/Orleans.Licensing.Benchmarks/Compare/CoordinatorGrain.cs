namespace Orleans.Licensing.Benchmarks.Compare;

/// <summary>A single coordinator per code, as a team funnelling every checkout through one grain would write it.</summary>
[Alias("Orleans.Licensing.Benchmarks.ICoordinatorGrain")]
public interface ICoordinatorGrain : IGrainWithStringKey
{
    [Alias("Configure")]
    Task Configure(int seats);

    [Alias("Checkout")]
    Task<bool> Checkout(string leaseId, string clientId);

    [Alias("Checkin")]
    Task<bool> Checkin(string leaseId);
}

[GenerateSerializer, Alias("Orleans.Licensing.Benchmarks.CoordinatorState")]
public sealed class CoordinatorState
{
    [Id(0)] public int Seats { get; set; }

    [Id(1)] public Dictionary<string, string> Leases { get; set; } = [];
}

/// <summary>Every lease is in the grain's state; a checkout is acknowledged after its state write (same storage as the pool).</summary>
public sealed class CoordinatorGrain(
    [PersistentState("coordinator", LicensingOptions.StorageName)] IPersistentState<CoordinatorState> state) : Grain, ICoordinatorGrain
{
    public async Task Configure(int seats)
    {
        state.State.Seats = seats;
        await state.WriteStateAsync();
    }

    public async Task<bool> Checkout(string leaseId, string clientId)
    {
        if (state.State.Leases.Count >= state.State.Seats) return false;
        state.State.Leases[leaseId] = clientId;
        await state.WriteStateAsync();
        return true;
    }

    public async Task<bool> Checkin(string leaseId)
    {
        if (!state.State.Leases.Remove(leaseId)) return false;
        await state.WriteStateAsync();
        return true;
    }
}
