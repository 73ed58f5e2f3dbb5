using System.Text.Json;
using System.Text.Json.Serialization;

namespace Engine.Training;

/// <summary>
/// How the engine's files spell JSON: snake_case names, enums as lower-case words, and NaN/∞ allowed (a loss can
/// be NaN, MostPop's is). Doubles round-trip exactly, which checkpoints rely on.
/// </summary>
public static class TrainingJson
{
    public static readonly JsonSerializerOptions Indented = Create(indented: true);

    /// <summary>One line per value, for JSON-lines logs.</summary>
    public static readonly JsonSerializerOptions Compact = Create(indented: false);

    private static JsonSerializerOptions Create(bool indented) => new()
    {
        WriteIndented = indented,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
