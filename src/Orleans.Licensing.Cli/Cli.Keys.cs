using System.CommandLine;
using System.Text.Json;
using Orleans.Licensing.Client;
using Orleans.Licensing.Grants;

namespace Orleans.Licensing.Cli;

/// <summary>Keys and grants: what a vendor runs to mint seats, and how the CLI finds its own credential.</summary>
public sealed partial class Cli
{
    public const string KeyFileVariable = "LICENSING_KEY_FILE";

    /// <summary>Where a server started with no keys configured writes its local keys (relative to its working directory).</summary>
    public static readonly string LocalKeys = Path.Combine("data", "keys");
    private static readonly string LocalAdminKey = Path.Combine(LocalKeys, "admin.key");
    private static readonly string LocalVendorKey = Path.Combine(LocalKeys, "vendor.key");

    private Command Keys()
    {
        var keys = new Command("keys", "Create vendor signing keys and API keys");

        var vendorOut = new Option<string>("--out") { Description = "The private key file to write (owner-only permissions)", Required = true };
        var vendorId = new Option<string?>("--key-id") { Description = "Key id (default: vendor-DATE-RANDOM)" };
        var vendor = new Command("new", "A new Ed25519 vendor signing key; prints the public key entry servers trust (Licensing:Security:VendorKeys)") { vendorOut, vendorId };
        vendor.SetAction(r => Guard(() =>
        {
            using var key = VendorSigningKey.Create(r.GetValue(vendorId));
            SecretFile.Write(r.GetValue(vendorOut)!, key.ToJson());
            output.WriteLine(JsonSerializer.Serialize(new { Id = key.KeyId, key.PublicKey }, Json));
        }));
        keys.Subcommands.Add(vendor);

        var apiOut = new Option<string>("--out") { Description = "The file to write the key to (owner-only permissions); the key is never printed", Required = true };
        var role = new Option<string>("--role") { Description = "Admin, Reader or Client", Required = true };
        role.AcceptOnlyFromAmong("Admin", "Reader", "Client");
        var clientId = new Option<string?>("--client-id") { Description = "Client role: the client ids it covers, an exact id or a prefix ending in '*'" };
        var id = new Option<string?>("--id") { Description = "The key's id in logs and rate limits (default: role-RANDOM)" };
        var api = new Command("api-key", "A new API key; prints the entry servers store (its hash, never the key)") { apiOut, role, clientId, id };
        api.SetAction(r => Guard(() =>
        {
            if (r.GetValue(role) == "Client" && string.IsNullOrWhiteSpace(r.GetValue(clientId))) throw new FormatException("--client-id is required for a Client key.");
            var key = ApiKeys.New();
            SecretFile.Write(r.GetValue(apiOut)!, key + "\n");
            var entry = new { Id = r.GetValue(id) ?? $"{r.GetValue(role)!.ToLowerInvariant()}-{Guid.NewGuid().ToString("N")[..8]}", Hash = ApiKeys.Hash(key), Role = r.GetValue(role), ClientId = r.GetValue(clientId) };
            output.WriteLine(JsonSerializer.Serialize(entry, Json));
        }));
        keys.Subcommands.Add(api);
        return keys;
    }

    private Command Sign()
    {
        var sign = new Command("sign", "Sign a grant with a vendor key (the output goes to add-code or add-allocations)");

        var code = new Argument<string>("code") { Description = "The license code" };
        var product = new Option<string>("--product") { Description = "Product or feature it licenses", Required = true };
        var seats = new Option<int>("--seats") { Description = "Concurrent-use seats (allocations)", Required = true };
        var expires = new Option<DateTimeOffset?>("--expires-at") { Description = "When the license expires, e.g. 2027-12-31T00:00:00Z" };
        var (key, outFile, pool) = SignOptions();
        var license = new Command("code", "A license code grant: pool, code, product, seats, expiry") { code, product, seats, expires, key, outFile, pool };
        license.SetAction((r, ct) => SignAsync(r, pool, ct, (vendor, poolId) =>
            Grant.ForLicenseCode(vendor.KeyId, poolId, r.GetValue(code)!, r.GetValue(product)!, r.GetValue(seats), DateTimeOffset.UtcNow, r.GetValue(expires)),
            r.GetValue(key)!, r.GetValue(outFile)));
        sign.Subcommands.Add(license);

        var allocationsCode = new Argument<string>("code") { Description = "The license code" };
        var count = new Option<int>("--count") { Description = "Allocations to add to the free pool", Required = true };
        var until = new Option<DateTimeOffset?>("--expires-at")
        {
            Description = $"The last moment the grant may be applied, at most {GrantCodec.MaxApplyWindow.TotalDays:0} days from now (default: 7 days from now)",
        };
        var (key2, outFile2, pool2) = SignOptions();
        var allocations = new Command("allocations", "An allocations grant: adds COUNT to the code's free pool, once") { allocationsCode, count, until, key2, outFile2, pool2 };
        allocations.SetAction((r, ct) => SignAsync(r, pool2, ct, (vendor, poolId) =>
        {
            var now = DateTimeOffset.UtcNow;
            return Grant.ForAllocations(vendor.KeyId, poolId, r.GetValue(allocationsCode)!, r.GetValue(count), now, r.GetValue(until) ?? now.AddDays(7));
        }, r.GetValue(key2)!, r.GetValue(outFile2)));
        sign.Subcommands.Add(allocations);
        return sign;
    }

    private static (Option<string> Key, Option<string?> Out, Option<string?> PoolId) SignOptions() => (
        new Option<string>("--key") { Description = $"The vendor key file (default: {LocalVendorKey}, the local key of a server started with no keys)", DefaultValueFactory = _ => LocalVendorKey },
        new Option<string?>("--out") { Description = "Write the grant to this file (default: print it)" },
        new Option<string?>("--pool-id") { Description = "The pool the grant is for (its licensing pool); default: ask the server (--server)" });

    /// <summary>Signs what <paramref name="make"/> builds, for the pool named by --pool-id or, without it, the one the server answers for.</summary>
    private async Task<int> SignAsync(ParseResult r, Option<string?> pool, CancellationToken ct, Func<VendorSigningKey, string, Grant> make, string keyFile, string? outFile)
    {
        VendorSigningKey vendor;
        try
        {
            vendor = VendorSigningKey.Load(keyFile);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine(e.Message);
            return ExitCodes.Usage;
        }

        using (vendor)
        {
            // What the vendor's tool refuses (seats 0, a window too long) is refused before any server is asked.
            var checkedLocally = Guard(() => GrantCodec.Sign(make(vendor, r.GetValue(pool) ?? "pool"), vendor));
            if (checkedLocally != ExitCodes.Ok) return checkedLocally;
            var poolId = r.GetValue(pool);
            if (string.IsNullOrWhiteSpace(poolId))
            {
                var asked = await RunAsync(r, ct, async client => poolId = (await client.GetPoolAsync(ct)).PoolId);
                if (asked != ExitCodes.Ok) return asked;
            }

            return Guard(() => WriteGrant(outFile, GrantCodec.Sign(make(vendor, poolId!), vendor)));
        }
    }

    private static Option<string> GrantOption() =>
        new("--grant") { Description = "File holding the signed grant, or - for standard input", Required = true };

    private static string ReadGrant(string file) => (file == "-" ? Console.In.ReadToEnd() : File.ReadAllText(file)).Trim();

    private void WriteGrant(string? file, string grant)
    {
        if (file is null)
        {
            output.WriteLine(grant);
            return;
        }

        File.WriteAllText(file, grant + "\n");
        output.WriteLine($"Wrote the grant to {file}.");
    }

    /// <summary>The API key: --key-file, else $LICENSING_API_KEY, else $LICENSING_KEY_FILE, else the local admin key if present.</summary>
    private string? ApiKey(ParseResult r)
    {
        if (r.GetValue(_keyFile) is { } file) return File.ReadAllText(file).Trim();
        if (Environment.GetEnvironmentVariable(LicensingClientOptions.EnvironmentVariable) is { Length: > 0 } key) return key.Trim();
        if (Environment.GetEnvironmentVariable(KeyFileVariable) is { Length: > 0 } envFile) return File.ReadAllText(envFile).Trim();
        return File.Exists(LocalAdminKey) ? File.ReadAllText(LocalAdminKey).Trim() : null;
    }

    private int Guard(Action action)
    {
        try
        {
            action();
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentException or GrantException)
        {
            error.WriteLine(e.Message);
            return ExitCodes.Usage;
        }
    }
}
