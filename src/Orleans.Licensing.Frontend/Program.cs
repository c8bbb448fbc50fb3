using System.Net;
using Orleans.Configuration;
using Orleans.Licensing;
using Orleans.Licensing.Frontend;

// An ASP.NET frontend that is an Orleans client: it asks the pool through the grain interfaces of
// Orleans.Licensing.Abstractions (the public contract) instead of the REST API.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var gateways = (builder.Configuration["Frontend:Gateways"] ?? "127.0.0.1:30000")
    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
    .Select(IPEndPoint.Parse)
    .ToArray();
builder.UseOrleansClient(client => client
    .UseStaticClustering(gateways)
    .Configure<ClusterOptions>(o => o.ClusterId = o.ServiceId = "orleans-licensing"));
builder.Services.AddProblemDetails();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));

var app = builder.Build();
app.MapPoolPages();
app.Run();
