using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Orleans.Licensing.Server.Api;
using Orleans.Licensing.Server.Hosting;
using Orleans.Licensing.Server.Security;
using Scalar.AspNetCore;

// One process = one license server = one silo; its server id is the silo name.
// appsettings.json is read from beside the binary; the data folder is relative to the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var settings = ServerSettings.From(builder.Configuration);
builder.Services.AddSingleton(settings);
builder.UseOrleans(silo => SiloConfiguration.Configure(silo, settings, builder.Configuration));

// After UseOrleans: stops before the silo does (see AllocationHandback).
builder.Services.AddHostedService<AllocationHandback>();

builder.AddLicensingSecurity();
builder.Services.AddSingleton(TimeProvider.System);
// One verifier of grants for the REST layer and the leaders of this silo: the build's pinned keys or the configured ones.
builder.Services.AddSingleton(PinnedVendorKeys.OfThisBuild());
builder.Services.AddSingleton<VendorTrust>();
builder.Services.AddSingleton<Orleans.Licensing.IGrantVerifier>(sp => sp.GetRequiredService<VendorTrust>());
builder.Services.AddSingleton<GrantCheck>();
builder.Services.AddSingleton<PoolGateway>();
builder.Services.AddSingleton<LeaseAdmin>();
builder.Services.AddSingleton<CredentialCheck>();   // the public contract's credentials (LicensingApiGrain)
builder.Services.AddSingleton<ProblemFilter>();
// Framework problems (404, 405, 415) as problem+json whatever the Accept header says: clients rely on the stable type.
builder.Services.AddSingleton<Microsoft.AspNetCore.Http.IProblemDetailsWriter, ProblemJsonWriter>();
builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.CustomizeFrameworkProblem);
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
    o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;   // "count": "5" is not a number
});
builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
{
    document.Info.Title = "Orleans.Licensing license server";
    document.Info.Description = "REST API v1 of one license server of the pool. Clients may talk to any server.";
    return Task.CompletedTask;
}));
builder.Services.AddHealthChecks()
    .AddCheck<ClusterHealthCheck>("cluster", tags: ["ready"])
    .AddCheck<StorageHealthCheck>("storage", tags: ["ready"])
    .AddCheck<TrustHealthCheck>("trust", tags: ["ready"]);

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseLicensingSecurity();     // API keys or JWT; every endpoint needs a credential unless it allows anonymous

app.MapOpenApi().AllowAnonymous();                 // /openapi/v1.json
app.MapScalarApiReference().AllowAnonymous();      // /scalar: the browsable API reference
app.MapGet("/", () => Results.Redirect("/scalar")).ExcludeFromDescription().AllowAnonymous();
app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = TrustHealthCheck.WriteAsync }).AllowAnonymous();
app.MapLicensingApi();
app.MapAdminSurfaces();           // pool view, usage API, /metrics, /dashboard (docs/observability.md)

app.Run();
