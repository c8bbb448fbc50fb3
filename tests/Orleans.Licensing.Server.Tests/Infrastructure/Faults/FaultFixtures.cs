namespace Orleans.Licensing.Server.Tests.Infrastructure.Faults;

/// <summary>Three servers, shrunk failure detection (a server is declared dead within seconds), 6 s leases.</summary>
public sealed class FaultFixture() : PostgresPoolFixture(TimeSpan.FromSeconds(6));

/// <summary>
/// Three servers with Orleans' default membership timing: clients fail over within one renewal period, long before
/// the others declare a killed server dead.
/// </summary>
public sealed class DefaultMembershipFaultFixture() : PostgresPoolFixture(TimeSpan.FromSeconds(6), membership: new Dictionary<string, string>());

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection : ICollectionFixture<FaultFixture>
{
    public const string Name = "Three servers on PostgreSQL: faults";
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DefaultMembershipFaultCollection : ICollectionFixture<DefaultMembershipFaultFixture>
{
    public const string Name = "Three servers on PostgreSQL: faults, default membership";
}
