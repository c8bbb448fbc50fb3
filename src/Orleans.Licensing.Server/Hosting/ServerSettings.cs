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

    public string DatabaseFile => Path.Combine(Path.GetFullPath(DataPath), "licensing.db");

    public static ServerSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<ServerSettings>() ?? new ServerSettings();
        if (string.IsNullOrWhiteSpace(settings.ServerId) || settings.ServerId.Contains('/'))
        {
            throw new InvalidOperationException($"Licensing:ServerId '{settings.ServerId}' must be non-empty and contain no '/'.");
        }

        return settings;
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
