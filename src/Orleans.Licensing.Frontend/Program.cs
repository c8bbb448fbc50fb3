using System.Net;
using Orleans.Configuration;
using Orleans.Licensing.Frontend;

// An ASP.NET frontend that is an Orleans client: it asks the pool through the grain interfaces of
// Orleans.Licensing.Abstractions (the public contract) instead of the REST API.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var cluster = builder.Configuration.GetSection("Frontend");
builder.UseOrleansClient(client =>
{
    // A pool on PostgreSQL (ConnectionStrings:Licensing, as the servers have it): the gateways are found in the
    // membership table, so servers may come and go (a StatefulSet scaling). Otherwise a fixed list of gateways.
    if (builder.Configuration.GetConnectionString("Licensing") is { Length: > 0 } connectionString)
    {
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = connectionString;
        });
    }
    else
    {
        client.UseStaticClustering((cluster["Gateways"] ?? "127.0.0.1:30000")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(IPEndPoint.Parse)
            .ToArray());
    }

    client.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = cluster["ClusterId"] is { Length: > 0 } clusterId ? clusterId : "orleans-licensing";
        o.ServiceId = cluster["ServiceId"] is { Length: > 0 } serviceId ? serviceId : "orleans-licensing";
    });
});
builder.Services.AddProblemDetails();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));

var app = builder.Build();
app.MapGet("/healthz", () => Results.Ok()).ExcludeFromDescription();
app.MapPoolPages();
app.Run();
