using System.Globalization;
using System.Text.Json;
using Engine.Training.Data;
using Engine.Training.Options;
using YamlDotNet.Serialization;

namespace Engine.Training;

/// <summary>
/// Reads a run's configuration from a JSON or YAML file (by extension): a flat map from option names, as
/// <c>sea train</c> spells them without the dashes (<c>layers</c>, <c>club-pairing</c> or <c>club_pairing</c>, …),
/// to values. Unknown names and unreadable values are errors naming the file and the key.
/// </summary>
public static class RunConfigFile
{
    public static RunConfig Load(string path, RunConfig? start = null)
    {
        var config = start ?? new RunConfig();
        foreach (var (key, values, _) in RunOptions.ModelFirst(Read(path), e => e.Key))
            config = values.Count == 1 ? Apply(config, key, values[0], path)
                : throw new DataFormatException(path, null, $"option '{key}' must be a single value here (lists of values are for 'sea grid')");
        return config;
    }

    /// <summary>
    /// A grid file: the same options, where any of them may be a list of values (MMRec's hyper-parameter lists). The
    /// result maps each option, in file order, to its values and whether the file wrote them as a list (a grid axis,
    /// even of one value); <see cref="Apply"/> makes a configuration of one point.
    /// </summary>
    public static IReadOnlyList<(string Key, IReadOnlyList<string?> Values, bool IsList)> ReadGrid(string path)
    {
        var entries = Read(path);
        foreach (var (key, values, _) in entries)
        {
            if (values.Count == 0) throw new DataFormatException(path, null, $"option '{key}' has an empty list of values");
            if (GridSearch.IsOutputKey(key)) continue;
            foreach (var value in values) Apply(new RunConfig(), key, value, path); // every value is checked before anything runs
        }
        return entries;
    }

    private static List<(string Key, IReadOnlyList<string?> Values, bool IsList)> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"config file {path} does not exist", path);
        var text = File.ReadAllText(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".json" => ReadJson(path, text),
            ".yaml" or ".yml" => ReadYaml(path, text),
            var other => throw new DataFormatException(path, null, $"a config file must end in .json, .yaml or .yml, not '{other}'"),
        };
    }

    /// <summary>
    /// Sets one option (an entry of <see cref="RunOptions.All"/>), read from <paramref name="file"/>; a relative path
    /// (the data folder, AlignRec's feature file) is relative to the file's folder.
    /// </summary>
    public static RunConfig Apply(RunConfig c, string key, string? value, string file)
    {
        var option = RunOptions.Find(key)
                     ?? throw new DataFormatException(file, null, $"unknown option '{OptionException.Quote(key)}' (known: {string.Join(", ", RunOptions.All.Select(o => o.Name))})");
        if (option.ValueHint == "PATH" && value is not null) value = Path.GetFullPath(value, Path.GetDirectoryName(Path.GetFullPath(file))!);
        try
        {
            return option.Apply(c, $"option '{key.Trim()}'", value);
        }
        catch (OptionException e)
        {
            throw new DataFormatException(file, null, e.Message);
        }
    }

    private static List<(string, IReadOnlyList<string?>, bool)> ReadJson(string file, string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(file, null, "the top level must be an object of option names to values");
            string? Scalar(string name, JsonElement v) => v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Null => null,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
                _ => throw new DataFormatException(file, null, $"option '{name}' must be a value or a list of values, not a {v.ValueKind.ToString().ToLowerInvariant()}"),
            };
            return json.RootElement.EnumerateObject().Select(p => p.Value.ValueKind == JsonValueKind.Array
                ? (p.Name, (IReadOnlyList<string?>)p.Value.EnumerateArray().Select(v => Scalar(p.Name, v)).ToList(), true)
                : (p.Name, [Scalar(p.Name, p.Value)], false)).ToList();
        }
        catch (JsonException e)
        {
            throw new DataFormatException(file, (int?)e.LineNumber + 1, $"not valid JSON: {e.Message}");
        }
    }

    private static List<(string, IReadOnlyList<string?>, bool)> ReadYaml(string file, string text)
    {
        try
        {
            var map = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(text) ?? [];
            string? Scalar(string name, object? v) => v switch
            {
                null => null,
                string s => s,
                IConvertible c => Convert.ToString(c, CultureInfo.InvariantCulture),
                _ => throw new DataFormatException(file, null, $"option '{name}' must be a value or a list of values"),
            };
            return map.Select(p => p.Value is List<object?> list
                ? (p.Key, (IReadOnlyList<string?>)list.Select(v => Scalar(p.Key, v)).ToList(), true)
                : (p.Key, [Scalar(p.Key, p.Value)], false)).ToList();
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new DataFormatException(file, (int)e.Start.Line, $"not valid YAML: {e.Message}");
        }
    }
}
