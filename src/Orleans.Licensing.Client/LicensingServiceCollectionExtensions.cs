using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Orleans.Licensing.Client;

public static class LicensingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="LicensingClient"/> and its named <see cref="HttpClient"/> ("Orleans.Licensing") with a
    /// resilience handler: a per-attempt timeout and a short retry at the same server. Moving on to the next server
    /// is the client's own job, so a down server costs one short timeout, not the whole request.
    /// </summary>
    public static IHttpClientBuilder AddLicensingClient(this IServiceCollection services, Action<LicensingClientOptions> configure)
    {
        services.AddOptions<LicensingClientOptions>().Configure(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LicensingClient>();
        var http = services.AddHttpClient(LicensingClient.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan);
        http.AddResilienceHandler("licensing", static (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<LicensingClientOptions>>().Value;
            var retry = new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, options.RetriesPerServer),
                Delay = TimeSpan.FromMilliseconds(100),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            };

            // A POST (checkout, add) is not retried blindly at the same server; the client decides what is safe.
            retry.DisableFor(HttpMethod.Post);
            if (options.RetriesPerServer > 0) pipeline.AddRetry(retry);
            pipeline.AddTimeout(options.AttemptTimeout);
        });
        return http;
    }
}
