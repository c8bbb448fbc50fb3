using System.Net;

namespace Orleans.Licensing.Server.Hosting;

/// <summary>
/// Who this license server is and where it keeps its data (configuration section "Licensing", e.g. environment
/// variables <c>Licensing__ServerId</c>). One process is one license server is one silo.
/// </summary>
public sealed class ServerSettings
{
    public const string Section = "Licensing";

    /// <summary>The license server id = the silo name. Stable across restarts (a pod name, a host name).</summary>
    public string ServerId { get; set; } = Environment.MachineName;

    /// <summary>Folder of the embedded store (SQLite file <c>licensing.db</c>). Servers of one pool share it.</summary>
    public string DataPath { get; set; } = "./data";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// "host:port" of the silo endpoint of the first server, for a pool of several servers on localhost clustering.
    /// Empty: this server is the primary.
    /// </summary>
    public string? PrimarySiloEndpoint { get; set; }

    /// <summary>
    /// Orleans ClusterId: the servers of one pool share it; only silos with the same ClusterId see each other in the
    /// membership table. Both modes use it (and <see cref="ServiceId"/>); Orleans clients of the pool need the same values.
    /// </summary>
    public string ClusterId { get; set; } = DefaultClusterName;

    /// <summary>
    /// Orleans ServiceId: grain storage records are keyed by it, so it must stay the same for the lifetime of the pool's
    /// data (a new ServiceId starts from an empty pool).
    /// </summary>
    public string ServiceId { get; set; } = DefaultClusterName;

    /// <summary>
    /// PostgreSQL mode: the IP address (or host name) this server advertises to the other servers in the membership
    /// table. Empty: the first IPv4 address of this host. On one machine, 127.0.0.1; in Kubernetes, the pod IP.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>PostgreSQL mode: the grain storage of the pool's state, Batching (default, faster) or AdoNet (Orleans' own).</summary>
    public PostgresStorage Storage { get; set; } = PostgresStorage.Batching;

    /// <summary>
    /// Serves <c>GET /api/v1/diagnostics/counters</c> (calls this server made to the leader, per method) to loopback
    /// callers only. Off by default: for benchmarks and debugging, not an interface.
    /// </summary>
    public bool DiagnosticsEndpoint { get; set; }

    /// <summary>
    /// The per-credential rate limit of the lease calls (<c>Licensing:Security:RateLimit</c>). On by default; off only
    /// where something in front limits callers (a gateway) or to measure its cost (docs/benchmarks.md).
    /// </summary>
    public bool LeaseRateLimit { get; set; } = true;

    /// <summary>
    /// How long a heartbeat forwarded to the lease's server (it reached this one through a load balancer) may take
    /// before this server treats that server as not answering and adopts the lease. Keep it well inside the clients'
    /// attempt timeout: it is added to a fail-over update while membership still lists a crashed server as active.
    /// </summary>
    public TimeSpan HeartbeatForwardTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// TLS between the pool's servers (<see cref="SiloTls"/>): a PFX or PEM certificate file; empty: plain TCP (keep the
    /// silo ports on a private network then).
    /// </summary>
    public string? SiloTlsCertificate { get; set; }

    /// <summary>The PEM private key of <see cref="SiloTlsCertificate"/>, if it is not in the certificate file.</summary>
    public string? SiloTlsKey { get; set; }

    public string? SiloTlsPassword { get; set; }

    /// <summary>A CA certificate (PEM or DER): peers must present a certificate it issued. Empty: the same certificate as ours.</summary>
    public string? SiloTlsCa { get; set; }

    /// <summary>
    /// With <see cref="SiloTlsCa"/>: the DNS name a peer's certificate must carry, exact or <c>*.suffix</c>
    /// (<see cref="SiloPeerName"/>). Empty: the name of our own certificate.
    /// </summary>
    public string? SiloTlsPeerName { get; set; }

    public const string DefaultClusterName = "orleans-licensing";

    public string DatabaseFile => Path.Combine(Path.GetFullPath(DataPath), "licensing.db");

    public static ServerSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<ServerSettings>() ?? new ServerSettings();
        if (string.IsNullOrWhiteSpace(settings.ServerId) || settings.ServerId.Contains('/'))
        {
            throw new InvalidOperationException($"Licensing:ServerId '{settings.ServerId}' must be non-empty and contain no '/'.");
        }

        if (string.IsNullOrWhiteSpace(settings.ClusterId) || string.IsNullOrWhiteSpace(settings.ServiceId))
        {
            throw new InvalidOperationException("Licensing:ClusterId and Licensing:ServiceId must be non-empty.");
        }

        return settings;
    }

    /// <summary>The advertised address as an IP, resolving a host name to its first IPv4 address.</summary>
    public IPAddress? ParseAdvertisedAddress()
    {
        if (string.IsNullOrWhiteSpace(AdvertisedAddress)) return null;
        if (IPAddress.TryParse(AdvertisedAddress, out var ip)) return ip;
        return Dns.GetHostAddresses(AdvertisedAddress).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            ?? throw new InvalidOperationException($"Licensing:AdvertisedAddress '{AdvertisedAddress}' has no IPv4 address.");
    }

    public IPEndPoint? ParsePrimarySiloEndpoint()
    {
        if (string.IsNullOrWhiteSpace(PrimarySiloEndpoint)) return null;
        if (IPEndPoint.TryParse(PrimarySiloEndpoint, out var endpoint) && endpoint.Port != 0) return endpoint;
        var colon = PrimarySiloEndpoint.LastIndexOf(':');
        if (colon > 0 && int.TryParse(PrimarySiloEndpoint[(colon + 1)..], out var port))
        {
            var address = Dns.GetHostAddresses(PrimarySiloEndpoint[..colon]).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
            if (address is not null) return new IPEndPoint(address, port);
        }

        throw new InvalidOperationException($"Licensing:PrimarySiloEndpoint '{PrimarySiloEndpoint}' is not host:port.");
    }
}
