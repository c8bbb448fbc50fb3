using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Licensing.Server.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Orleans.Licensing.Server.Tests.Kubernetes;

/// <summary>
/// The Helm binary that .ci/helm.sh installs (<c>LICENSING_HELM</c>, set by .ci/run; locally the same default path
/// under ~/.cache) and <c>helm template</c> of the repository's chart, parsed into JSON nodes.
/// </summary>
public static class Helm
{
    public const string Variable = "LICENSING_HELM";

    public static string? Binary
    {
        get
        {
            var path = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } set
                ? set
                : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
                    "orleans-licensing-ci", "helm-4.1.4", "helm");
            return File.Exists(path) ? path : null;
        }
    }

    public static string Chart => Path.Combine(RepositoryRoot(), "charts", "orleans-licensing");

    /// <summary><c>helm template RELEASE chart -f values.json</c>: every rendered manifest, in order.</summary>
    public static async Task<IReadOnlyList<JsonObject>> TemplateAsync(string release, object values)
    {
        var helm = Binary ?? throw new InvalidOperationException($"Helm not found: set {Variable} (bash .ci/helm.sh installs it).");
        var valuesFile = Path.Combine(Path.GetTempPath(), $"licensing-values-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(valuesFile, JsonSerializer.Serialize(values));   // JSON is YAML
        try
        {
            var start = new ProcessStartInfo(helm, ["template", release, Chart, "--namespace", "licensing", "-f", valuesFile])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException($"helm template failed ({process.ExitCode}): {await error}");
            return Parse(await output);
        }
        finally
        {
            File.Delete(valuesFile);
        }
    }

    public static IReadOnlyList<JsonObject> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return [.. stream.Documents.Select(d => ToJson(d.RootNode)).OfType<JsonObject>()];
    }

    /// <summary>Scalars stay strings: the tests compare them as Kubernetes would read them from the manifest.</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode { Value: null or "null" or "~" } => null,
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new InvalidOperationException($"Unexpected YAML node {node.NodeType}"),
    };

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orleans.Licensing.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Orleans.Licensing.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// Skipped locally without Helm or PostgreSQL; under <c>CI=true</c> never skipped (the test then fails on what is missing).
/// </summary>
public sealed class KubernetesProcessFactAttribute : FactAttribute
{
    public KubernetesProcessFactAttribute()
    {
        if (PostgresPoolFixture.IsCi) return;
        if (Helm.Binary is null) Skip = $"Helm not found ({Helm.Variable}; bash .ci/helm.sh installs it).";
        else if (PostgresPoolFixture.ConnectionString is null) Skip = $"{PostgresPoolFixture.Variable} is not set.";
    }
}

/// <summary>A render test: needs only Helm. Skipped locally without it; under <c>CI=true</c> never skipped.</summary>
public sealed class HelmFactAttribute : FactAttribute
{
    public HelmFactAttribute()
    {
        if (!PostgresPoolFixture.IsCi && Helm.Binary is null) Skip = $"Helm not found ({Helm.Variable}; bash .ci/helm.sh installs it).";
    }
}
