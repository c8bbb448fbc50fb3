using System.Text.Json.Nodes;

namespace Orleans.Licensing.Server.Tests.Kubernetes;

/// <summary>
/// The chart's NetworkPolicy and gateway exposure, as rendered: exact selectors and ports; the gateway is opened,
/// published and admitted only with the frontend.
/// </summary>
[Trait("Deploy", "Kubernetes")]
public sealed class NetworkPolicyTests
{
    private const string Release = "licensing";
    private const string Fullname = "licensing-orleans-licensing";
    private static readonly object Postgres = new { connectionString = "Host=postgres;Username=licensing;Password=x;Database=licensing" };
    private static readonly object Keys = new { existingSecret = "licensing-keys" };

    private static JsonObject Selector(string component) => new()
    {
        ["app.kubernetes.io/name"] = "orleans-licensing",
        ["app.kubernetes.io/instance"] = Release,
        ["app.kubernetes.io/component"] = component,
    };

    private static JsonObject Rule(string? component, params int[] ports)
    {
        var rule = new JsonObject { ["ports"] = new JsonArray([.. ports.Select(p => (JsonNode)new JsonObject { ["port"] = p.ToString(), ["protocol"] = "TCP" })]) };
        if (component is not null)
        {
            rule = new JsonObject { ["from"] = new JsonArray(new JsonObject { ["podSelector"] = new JsonObject { ["matchLabels"] = Selector(component) } }), ["ports"] = rule["ports"]!.DeepClone() };
        }

        return rule;
    }

    private static JsonObject Find(IReadOnlyList<JsonObject> manifests, string kind, string name) =>
        manifests.Single(m => (string?)m["kind"] == kind && (string?)m["metadata"]!["name"] == name);

    [HelmFact]
    public async Task By_default_the_silo_port_admits_only_server_pods_the_api_everyone_and_there_is_no_gateway()
    {
        var manifests = await Helm.TemplateAsync(Release, new { postgresql = Postgres, security = Keys });
        var policy = Find(manifests, "NetworkPolicy", Fullname);
        Assert.Equal(Selector("server").ToJsonString(), policy["spec"]!["podSelector"]!["matchLabels"]!.ToJsonString());
        Assert.Equal("""["Ingress"]""", policy["spec"]!["policyTypes"]!.ToJsonString());
        Assert.Equal(new JsonArray(Rule("server", 11111), Rule(null, 8080)).ToJsonString(), policy["spec"]!["ingress"]!.ToJsonString());

        var silo = Find(manifests, "Service", Fullname + "-silo");
        Assert.Equal("silo", Assert.Single(silo["spec"]!["ports"]!.AsArray())!["name"]!.GetValue<string>());
        var container = Find(manifests, "StatefulSet", Fullname)["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.DoesNotContain(container["ports"]!.AsArray(), p => (string?)p!["name"] == "gateway");
        Assert.Equal("0", (string?)container["env"]!.AsArray().Single(e => (string?)e!["name"] == "Licensing__GatewayPort")!["value"]);
    }

    [HelmFact]
    public async Task With_the_frontend_the_gateway_admits_only_frontend_pods_and_api_sources_are_configurable()
    {
        var apiFrom = new[] { new { namespaceSelector = new { matchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "licensing" } } } };
        var manifests = await Helm.TemplateAsync(Release, new
        {
            postgresql = Postgres,
            security = Keys,
            frontend = new { enabled = true },
            orleans = new { siloPort = 12000, gatewayPort = 31000 },
            tls = new { enabled = true, secretName = "api-tls", certificateKey = "tls.crt", keyKey = "tls.key" },
            networkPolicy = new { apiFrom },
        });
        var api = Rule(null, 8080, 8443);
        api["from"] = System.Text.Json.JsonSerializer.SerializeToNode(apiFrom);
        var ingress = Find(manifests, "NetworkPolicy", Fullname)["spec"]!["ingress"]!;
        Assert.Equal(new JsonArray(Rule("server", 12000), Rule("frontend", 31000), api).ToJsonString(), ingress.ToJsonString());

        var silo = Find(manifests, "Service", Fullname + "-silo");
        Assert.Equal("""["silo","gateway"]""", new JsonArray([.. silo["spec"]!["ports"]!.AsArray().Select(p => (JsonNode)p!["name"]!.GetValue<string>())]).ToJsonString());
        var container = Find(manifests, "StatefulSet", Fullname)["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal("31000", (string?)container["env"]!.AsArray().Single(e => (string?)e!["name"] == "Licensing__GatewayPort")!["value"]);
    }

    [HelmFact]
    public async Task The_policy_can_be_turned_off()
    {
        var manifests = await Helm.TemplateAsync(Release, new { postgresql = Postgres, security = Keys, networkPolicy = new { enabled = false } });
        Assert.DoesNotContain(manifests, m => (string?)m["kind"] == "NetworkPolicy");
    }
}
