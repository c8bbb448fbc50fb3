using Microsoft.Extensions.DependencyInjection;
using Orleans.Licensing.Security;

namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// Test clusters only: their client drives the internal protocol directly, so their silos admit every client call.
/// Code registers it (there is no setting for it); <see cref="Security.ProductionGuardTests"/> runs without it.
/// </summary>
public sealed class TestClientAdmitted : IClientCallPolicy
{
    public bool Admits(GrainId target, Type grainInterface) => true;

    public static void Register(ISiloBuilder silo) => silo.Services.AddSingleton<IClientCallPolicy, TestClientAdmitted>();
}

/// <summary>
/// The production policy plus the one system target the test cluster's client calls while it deploys (TestingHost's
/// test hooks, which a server process does not have): what <see cref="Security.ProductionGuardTests"/> runs with.
/// </summary>
public sealed class ProductionPolicyWithTestHooks : IClientCallPolicy
{
    private static readonly GrainType TestHooks = GrainType.Create(GrainTypePrefix.SystemTargetPrefix + "test.hooks");
    private readonly PublicContractOnly _production = new();

    public bool Admits(GrainId target, Type grainInterface) => target.Type.Equals(TestHooks) || _production.Admits(target, grainInterface);

    public static void Register(ISiloBuilder silo) => silo.Services.AddSingleton<IClientCallPolicy, ProductionPolicyWithTestHooks>();
}
