using System.Text;
using System.Text.Json.Nodes;

namespace Orleans.Licensing.Server.Tests.Kubernetes;

/// <summary>
/// The pods of the chart's rendered StatefulSet as server processes on this machine: the environment of container
/// "server" exactly as the manifest gives it, resolved as the kubelet would (downward API, Secret keys), with only
/// what cannot exist here substituted: the pod name and IP (loopback), mounted paths (a test folder per volume and
/// pod, Secret volumes filled with their keys), and the container ports (free loopback ports of the process).
/// </summary>
public sealed class StatefulSetPods
{
    private readonly JsonObject _container;
    private readonly JsonObject _podSpec;
    private readonly Dictionary<string, string> _secrets = new(StringComparer.Ordinal);
    private readonly string _root;
    private readonly string _kind;

    /// <param name="externalSecrets">Secrets the chart does not render (existingSecret values): "secret/key" → value.</param>
    /// <param name="kind">StatefulSet (the servers) or Deployment (the frontend: pod names are then the test's choice).</param>
    public StatefulSetPods(IReadOnlyList<JsonObject> manifests, string root, IReadOnlyDictionary<string, string>? externalSecrets = null,
        string kind = "StatefulSet", string container = "server")
    {
        _kind = kind;
        var set = manifests.Single(m => (string?)m["kind"] == kind);
        Name = (string)set["metadata"]!["name"]!;
        Replicas = int.Parse((string)set["spec"]!["replicas"]!);
        _podSpec = set["spec"]!["template"]!["spec"]!.AsObject();
        _container = _podSpec["containers"]!.AsArray().Single(c => (string?)c!["name"] == container)!.AsObject();
        _root = root;
        foreach (var secret in manifests.Where(m => (string?)m["kind"] == "Secret"))
        {
            var name = (string)secret["metadata"]!["name"]!;
            foreach (var (key, value) in secret["stringData"]?.AsObject() ?? new JsonObject()) _secrets[$"{name}/{key}"] = (string)value!;
            foreach (var (key, value) in secret["data"]?.AsObject() ?? new JsonObject()) _secrets[$"{name}/{key}"] = Encoding.UTF8.GetString(Convert.FromBase64String((string)value!));
        }

        foreach (var (key, value) in externalSecrets ?? new Dictionary<string, string>()) _secrets[key] = value;
    }

    /// <summary>The StatefulSet's name; pod i is named "{Name}-{i}".</summary>
    public string Name { get; }

    public int Replicas { get; }

    public string PodName(int ordinal) => $"{Name}-{ordinal}";

    /// <summary>The container's environment as rendered, before any substitution (the pods' template).</summary>
    public JsonArray RenderedEnv => _container["env"]!.AsArray();

    public int ContainerPort(string name) =>
        int.Parse((string)_container["ports"]!.AsArray().Single(p => (string?)p!["name"] == name)!["containerPort"]!);

    /// <summary>
    /// The environment of pod <paramref name="podName"/> here. Variables whose value is a container port are left out
    /// after checking that they are (the process gets free loopback ports for them); values that are mounted paths
    /// point into this pod's test folders.
    /// </summary>
    public Dictionary<string, string> Environment(string podName, string podIp)
    {
        var mounts = Mounts(podName);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in RenderedEnv.Select(e => e!.AsObject()))
        {
            var name = (string)item["name"]!;
            string? value;
            if (item["value"] is { } literal)
            {
                value = (string?)literal ?? "";
            }
            else if (item["valueFrom"]?["fieldRef"]?["fieldPath"] is { } field)
            {
                value = (string)field! switch
                {
                    "metadata.name" => podName,
                    "status.podIP" => podIp,
                    "metadata.namespace" => "licensing",
                    var other => throw new InvalidOperationException($"{name}: unsupported fieldRef {other}"),
                };
            }
            else if (item["valueFrom"]?["secretKeyRef"] is JsonObject secretRef)
            {
                var key = $"{secretRef["name"]}/{secretRef["key"]}";
                if (!_secrets.TryGetValue(key, out value))
                {
                    if ((string?)secretRef["optional"] == "true") continue;
                    throw new InvalidOperationException($"{name}: Secret key {key} is neither rendered nor given to the test.");
                }
            }
            else
            {
                throw new InvalidOperationException($"{name}: unsupported env source {item.ToJsonString()}");
            }

            env[name] = MapPath(value, mounts);
        }

        // Container ports: checked, then left to the process (ServerProcess binds free loopback ports instead).
        Expect(env, "Kestrel__Endpoints__Http__Url", $"http://+:{ContainerPort("http")}");
        if (_kind == "StatefulSet")
        {
            Expect(env, "Licensing__SiloPort", ContainerPort("silo").ToString());
            // Without the frontend the pods open no gateway (0), and neither does the process.
            if (_container["ports"]!.AsArray().Any(p => (string?)p!["name"] == "gateway")) Expect(env, "Licensing__GatewayPort", ContainerPort("gateway").ToString());
            else if (env.GetValueOrDefault("Licensing__GatewayPort") != "0") throw new InvalidOperationException("No gateway container port, but Licensing__GatewayPort is not 0.");
        }

        return env;
    }

    /// <summary>mountPath → this pod's folder for that volume (Secret volumes get their keys written as files).</summary>
    public IReadOnlyDictionary<string, string> Mounts(string podName)
    {
        var volumes = _podSpec["volumes"]!.AsArray().ToDictionary(v => (string)v!["name"]!, v => v!.AsObject());
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mount in _container["volumeMounts"]!.AsArray().Select(m => m!.AsObject()))
        {
            var volumeName = (string)mount["name"]!;
            var local = Path.Combine(_root, podName, volumeName);
            Directory.CreateDirectory(local);
            var volume = volumes[volumeName];
            if (volume["secret"] is JsonObject secret)
            {
                var secretName = (string)secret["secretName"]!;
                foreach (var item in secret["items"]!.AsArray().Select(i => i!.AsObject()))
                {
                    var key = $"{secretName}/{item["key"]}";
                    if (!_secrets.TryGetValue(key, out var content)) throw new InvalidOperationException($"Volume {volumeName}: Secret key {key} not given to the test.");
                    File.WriteAllText(Path.Combine(local, (string)item["path"]!), content);
                }
            }
            else if (volume["emptyDir"] is null)
            {
                throw new InvalidOperationException($"Volume {volumeName}: only emptyDir and secret volumes are mapped.");
            }

            mounts[(string)mount["mountPath"]!] = local;
        }

        return mounts;
    }

    /// <summary>A value that is a mounted path (or below one) points at the pod's test folder for that volume instead.</summary>
    private static string MapPath(string value, IReadOnlyDictionary<string, string> mounts)
    {
        foreach (var (mountPath, local) in mounts.OrderByDescending(m => m.Key.Length))
        {
            if (value == mountPath) return local;
            if (value.StartsWith(mountPath + "/", StringComparison.Ordinal)) return Path.Combine(local, value[(mountPath.Length + 1)..]);
        }

        return value;
    }

    private static void Expect(Dictionary<string, string> env, string name, string expected)
    {
        if (!env.Remove(name, out var actual)) throw new InvalidOperationException($"The pods' environment has no {name}.");
        if (actual != expected) throw new InvalidOperationException($"{name} is '{actual}', not the container port ('{expected}').");
    }
}
