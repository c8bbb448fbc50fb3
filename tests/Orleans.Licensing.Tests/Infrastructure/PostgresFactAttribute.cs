namespace Orleans.Licensing.Tests.Infrastructure;

/// <summary>
/// A test that needs the PostgreSQL storage: it is skipped when <see cref="TestStorage.PostgresVariable"/> is not set.
/// CI sets it for its PostgreSQL run and fails that run if any test was skipped, so a missing database never passes
/// silently there.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestStorage.IsPostgres)
        {
            Skip = $"{TestStorage.PostgresVariable} is not set (PostgreSQL tests run in CI's PostgreSQL run).";
        }
    }
}
