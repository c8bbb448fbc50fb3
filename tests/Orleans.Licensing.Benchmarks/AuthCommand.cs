using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Licensing.Grants;
using Orleans.Licensing.Server.Security;

namespace Orleans.Licensing.Benchmarks;

/// <summary>
/// `auth [iterations]`: what authenticating one request with an API key costs in the server, without a server and
/// without BenchmarkDotNet: the key ring's lookup (SHA-256 of the key, its hex text, a dictionary lookup), the cache in
/// front of it (<see cref="ApiKeyCache"/>), and the whole handler as ASP.NET Core runs it per request (a handler made
/// per request, the header parsed, the principal built). One thread, a warm-up pass first; ns per call and bytes
/// allocated per call. Authentication cannot be switched off in a server, so this is how its cost is measured.
/// </summary>
internal static class AuthCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        var directory = Directory.CreateTempSubdirectory("licensing-bench-auth-").FullName;
        try
        {
            // 64 client keys, as compare's HTTP rows use.
            var keys = Enumerable.Range(0, 64).Select(_ => ApiKeys.New()).ToArray();
            var file = Path.Combine(directory, "keys.json");
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new
            {
                ApiKeys = keys.Select((k, i) => new { Id = $"client-{i}", Hash = ApiKeys.Hash(k), Role = "Client", ClientId = $"client-{i}" }),
                VendorKeys = Array.Empty<object>(),
            }));
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Licensing:Security:KeysFile"] = file }).Build();
            var ring = new KeyRing(configuration, NullLogger<KeyRing>.Instance);
            var cache = ApiKeyCache.For(ring);
            var now = DateTimeOffset.UtcNow;
            var scheme = new AuthenticationScheme(ApiKeyAuthenticationHandler.SchemeName, null, typeof(ApiKeyAuthenticationHandler));
            var monitor = new FixedMonitor();
            var contexts = keys.Select(k =>
            {
                var context = new DefaultHttpContext();
                context.Request.Headers.Authorization = "Bearer " + k;
                return context;
            }).ToArray();

            Console.WriteLine($"auth: {iterations:N0} calls per row, {keys.Length} keys round-robin, one thread ({Environment.ProcessorCount} cores; a shared machine makes these noisy)");
            Row("key ring lookup (SHA-256 + hex + dictionary)", iterations, i => ring.FindApiKey(keys[i & 63], now));
            Row("ApiKeyCache.Find (hit)", iterations, i => cache.Find(keys[i & 63], now));
            await RowAsync("whole handler per request (cache; as ASP.NET Core runs it)", iterations / 4, async i =>
            {
                var handler = new ApiKeyAuthenticationHandler(monitor, NullLoggerFactory.Instance, UrlEncoder.Default, ring);
                await handler.InitializeAsync(scheme, contexts[i & 63]);
                var result = await handler.AuthenticateAsync();
                if (!result.Succeeded) throw new InvalidOperationException("authentication failed");
            });
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Row(string name, int iterations, Func<int, object?> call)
    {
        for (var i = 0; i < iterations / 10; i++) call(i);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            if (call(i) is null) throw new InvalidOperationException($"{name}: key not found");
        }

        Print(name, iterations, Stopwatch.GetElapsedTime(started), GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    private static async Task RowAsync(string name, int iterations, Func<int, Task> call)
    {
        for (var i = 0; i < iterations / 10; i++) await call(i);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++) await call(i);
        Print(name, iterations, Stopwatch.GetElapsedTime(started), GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    private static void Print(string name, int iterations, TimeSpan elapsed, long bytes) =>
        Console.WriteLine($"  {name}: {elapsed.TotalNanoseconds / iterations:F0} ns/call, {(double)bytes / iterations:F0} B/call");

    private sealed class FixedMonitor : IOptionsMonitor<AuthenticationSchemeOptions>
    {
        private readonly AuthenticationSchemeOptions _options = new();

        public AuthenticationSchemeOptions CurrentValue => _options;

        public AuthenticationSchemeOptions Get(string? name) => _options;

        public IDisposable? OnChange(Action<AuthenticationSchemeOptions, string?> listener) => null;
    }
}
