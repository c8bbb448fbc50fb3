using System.Text.Json;
using Orleans.Licensing.Grants;
using Orleans.Licensing.Server.Hosting;

namespace Orleans.Licensing.Server.Security;

/// <summary>
/// Zero setup on one machine: a server with no API key, no vendor key and no JWT issuer configured generates, once, in
/// <c>{DataPath}/keys/</c>: a vendor signing key (<c>vendor.key</c>) it trusts, and admin, reader and client API keys
/// (<c>admin.key</c>, <c>reader.key</c>, <c>client.key</c>; the client key covers every client id), stored hashed in
/// <c>keys.json</c>. Whoever can read that folder can mint seats and administer this server: fine for a
/// workstation or a trial, not for production (set <see cref="SecurityOptions.LocalKeys"/> false and provision keys).
/// </summary>
public sealed partial class LocalKeys(IConfiguration configuration, ServerSettings settings, KeyRing ring, ILogger<LocalKeys> logger)
{
    public const string Folder = "keys";
    public const string AdminKeyFile = "admin.key";
    public const string ReaderKeyFile = "reader.key";
    public const string ClientKeyFile = "client.key";
    public const string VendorKeyFile = "vendor.key";
    public const string KeysFile = "keys.json";

    public void Ensure()
    {
        var configured = KeyRing.Configured(configuration);
        var hasKeys = configured.ApiKeys.Count > 0 || configured.VendorKeys.Count > 0 || configured.KeysFile is not null || configured.Jwt.Enabled;
        if (hasKeys) return;
        if (!configured.LocalKeys)
        {
            throw new InvalidOperationException(
                "No credentials are configured (Licensing:Security:ApiKeys, KeysFile or Jwt) and Licensing:Security:LocalKeys is false: this server would refuse every request.");
        }

        var folder = Path.Combine(Path.GetFullPath(settings.DataPath), Folder);
        if (!File.Exists(Path.Combine(folder, KeysFile))) Generate(folder);
        LocalKeysTrust.Check(folder);
        ring.LocalKeysFile = Path.Combine(folder, KeysFile);
        LogLocalKeys(folder);
    }

    private static void Generate(string folder)
    {
        // Written beside the target and moved into place, so that servers sharing a data folder that start together
        // end up with one set of keys: the first move wins, the others use it.
        var parent = Path.GetDirectoryName(folder)!;
        if (OperatingSystem.IsWindows() || Directory.Exists(parent)) Directory.CreateDirectory(parent);
        else Directory.CreateDirectory(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var staging = Path.Combine(parent, $".keys-{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(staging);
        else Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var vendor = VendorSigningKey.Create("local-" + Guid.NewGuid().ToString("N")[..8]);
        var keys = new SecurityOptions
        {
            VendorKeys = [new VendorKeyEntry { Id = vendor.KeyId, PublicKey = vendor.PublicKey }],
        };
        foreach (var (file, role, clientId) in new[] { (AdminKeyFile, LicensingRoles.Admin, (string?)null), (ReaderKeyFile, LicensingRoles.Reader, null), (ClientKeyFile, LicensingRoles.Client, "*") })
        {
            var key = ApiKeys.New();
            SecretFile.Write(Path.Combine(staging, file), key + "\n");
            keys.ApiKeys.Add(new ApiKeyEntry { Id = "local-" + role.ToLowerInvariant(), Hash = ApiKeys.Hash(key), Role = role, ClientId = clientId });
        }

        SecretFile.Write(Path.Combine(staging, VendorKeyFile), vendor.ToJson());
        SecretFile.Write(Path.Combine(staging, KeysFile), JsonSerializer.Serialize(new { keys.ApiKeys, keys.VendorKeys }, new JsonSerializerOptions { WriteIndented = true }));
        try
        {
            Directory.Move(staging, folder);
        }
        catch (IOException) when (File.Exists(Path.Combine(folder, KeysFile)))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No keys configured: using local keys in {Folder} (admin.key, reader.key, client.key: API keys; vendor.key: the signing key whose grants this server trusts). Anyone who can read that folder can administer this server and mint seats.")]
    private partial void LogLocalKeys(string folder);
}
