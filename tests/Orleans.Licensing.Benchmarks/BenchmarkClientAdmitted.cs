using Orleans.Licensing.Security;
using Orleans.Runtime;

namespace Orleans.Licensing.Benchmarks;

/// <summary>The writes command drives the protocol from an Orleans client through the gateway: its silos admit it.</summary>
internal sealed class BenchmarkClientAdmitted : IClientCallPolicy
{
    public bool Admits(GrainId target, Type grainInterface) => true;
}
