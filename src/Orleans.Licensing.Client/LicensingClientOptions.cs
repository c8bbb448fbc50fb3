namespace Orleans.Licensing.Client;

public sealed class LicensingClientOptions
{
    /// <summary>Base URLs of the license servers, tried in order; any of them can serve (claim 1).</summary>
    public IList<Uri> Servers { get; set; } = [];

    /// <summary>Who holds the leases: by default host and process.</summary>
    public string ClientId { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>
    /// The API key sent with every request (<c>Authorization: Bearer</c>); by default the environment variable
    /// <c>LICENSING_API_KEY</c>. A client key covers the client ids its server-side entry names.
    /// </summary>
    public string? ApiKey { get; set; } = Environment.GetEnvironmentVariable(EnvironmentVariable);

    public const string EnvironmentVariable = "LICENSING_API_KEY";

    /// <summary>Who uses the seats, as administrators see it (licensing leases): sent with every checkout and heartbeat. Null: not sent.</summary>
    public string? User { get; set; } = Environment.UserName;

    /// <summary>The machine the seats are used on, as administrators see it: sent with every checkout and heartbeat. Null: not sent.</summary>
    public string? Host { get; set; } = Environment.MachineName;

    /// <summary>A name administrators recognise (an application or a person's full name); optional.</summary>
    public string? DisplayName { get; set; }

    /// <summary>How long one attempt at one server may take before the client tries again or moves on.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Retries at the same server on a transient failure before the client moves to the next one.</summary>
    public int RetriesPerServer { get; set; } = 1;

    /// <summary>While no server answers a heartbeat, how long the lease waits before it tries the list again.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);
}
