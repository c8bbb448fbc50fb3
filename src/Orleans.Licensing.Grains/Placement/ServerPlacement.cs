using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Orleans.Licensing.Placement;

/// <summary>Places a <c>ServerGrain</c> on the silo whose name is the server id in its key, and nowhere else.</summary>
[GenerateSerializer, Immutable, Alias("Orleans.Licensing.ServerPlacementStrategy")]
public sealed class ServerPlacementStrategy : PlacementStrategy
{
    internal static readonly ServerPlacementStrategy Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ServerPlacementAttribute() : PlacementAttribute(ServerPlacementStrategy.Instance);

/// <summary>Fails fast when the named server is not active, instead of activating its grain on another silo.</summary>
public sealed class ServerPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var (serverId, _) = ServerGrainKey.Parse(target.GrainIdentity.Key.ToString()!);
        var members = membership.CurrentSnapshot.Members;
        foreach (var silo in context.GetCompatibleSilos(target))
        {
            if (members.TryGetValue(silo, out var member) && member.Status == SiloStatus.Active && member.Name == serverId)
            {
                return Task.FromResult(silo);
            }
        }

        throw new SiloUnavailableException($"License server '{serverId}' is not active.");
    }
}
