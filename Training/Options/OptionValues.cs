using System.Globalization;
using System.Text;

namespace Engine.Training.Options;

/// <summary>
/// A value given for an option does not fit it. The message is one line naming the option as it was given, the
/// value and what would fit, e.g. <c>--lr abc: not a number (expected a number &gt; 0)</c>.
/// </summary>
public sealed class OptionException(string option, string? value, string problem)
    : ArgumentException($"{option} {Quote(value)}: {problem}")
{
    public string Option { get; } = option;

    /// <summary>A value as a message shows it: control characters escaped, long values cut.</summary>
    public static string Quote(string? value)
    {
        if (value is null) return "(no value)";
        var text = new StringBuilder();
        foreach (var c in value.Length > 60 ? value[..60] + "…" : value)
            text.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c);
        return text.Length == 0 ? "''" : text.ToString();
    }
}

/// <summary>The numbers an option accepts, written the way its help and its refusals print it.</summary>
public readonly record struct ValidRange(double Min, double Max, bool MinOpen = false, bool MaxOpen = false)
{
    public static ValidRange AtLeast(double min) => new(min, double.PositiveInfinity);
    public static ValidRange Above(double min) => new(min, double.PositiveInfinity, MinOpen: true);
    public static ValidRange Between(double min, double max) => new(min, max);
    public static readonly ValidRange Positive = Above(0);
    public static readonly ValidRange NonNegative = AtLeast(0);
    public static readonly ValidRange Fraction = Between(0, 1);

    public bool Contains(double v) =>
        !double.IsNaN(v) && (MinOpen ? v > Min : v >= Min) && (MaxOpen ? v < Max : v <= Max);

    /// <summary>A value and its range as the help shows it: "N ≥ 1", "X in [0, 1]".</summary>
    public string Hint(string letter) => double.IsPositiveInfinity(Max) ? $"{letter} {this}" : $"{letter} in {this}";

    public override string ToString() => double.IsPositiveInfinity(Max)
        ? $"{(MinOpen ? ">" : "≥")} {RunOption.Format(Min)}"
        : $"{(MinOpen ? "(" : "[")}{RunOption.Format(Min)}, {RunOption.Format(Max)}{(MaxOpen ? ")" : "]")}";
}

/// <summary>Parsing of option values, shared by the command line and configuration files so both refuse alike.</summary>
public static class OptionValues
{
    public static int Int(string option, string? text, ValidRange range)
    {
        if (!int.TryParse(text?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new OptionException(option, text, $"not a whole number (expected a whole number {range})");
        CheckRange(option, text, v, range);
        return v;
    }

    public static double Real(string option, string? text, ValidRange range)
    {
        if (!double.TryParse(text?.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new OptionException(option, text, $"not a finite number (expected a number {range})");
        CheckRange(option, text, v, range);
        return v;
    }

    public static ulong Seed(string option, string? text) =>
        ulong.TryParse(text?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new OptionException(option, text, $"not a seed (expected a whole number in [0, {ulong.MaxValue}])");

    public static bool Bool(string option, string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "1" or "on" => true,
        "false" or "no" or "0" or "off" => false,
        _ => throw new OptionException(option, text, "expected true or false"),
    };

    /// <summary>One of <paramref name="choices"/>, in any case.</summary>
    public static string Choice(string option, string? text, IReadOnlyList<string> choices) =>
        choices.FirstOrDefault(c => string.Equals(c, text?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new OptionException(option, text, $"expected one of {string.Join(", ", choices)}");

    /// <summary>An enum value by its printed name (<see cref="Name{T}"/>), in any case, with or without dashes.</summary>
    public static T Enum<T>(string option, string? text) where T : struct, System.Enum
    {
        string key = (text ?? "").Trim().Replace("-", "").Replace("_", "");
        foreach (var value in System.Enum.GetValues<T>())
            if (string.Equals(value.ToString(), key, StringComparison.OrdinalIgnoreCase)) return value;
        throw new OptionException(option, text, $"expected one of {string.Join(", ", Names<T>())}");
    }

    /// <summary>An enum value as users type it: <c>LastForward</c> → <c>last-forward</c>.</summary>
    public static string Name<T>(T value) where T : struct, System.Enum
    {
        var text = new StringBuilder();
        foreach (var c in value.ToString())
        {
            if (char.IsUpper(c) && text.Length > 0) text.Append('-');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }

    public static IEnumerable<string> Names<T>() where T : struct, System.Enum => System.Enum.GetValues<T>().Select(Name);

    private static void CheckRange(string option, string? text, double v, ValidRange range)
    {
        if (!range.Contains(v)) throw new OptionException(option, text, $"out of range (expected {range})");
    }
}
