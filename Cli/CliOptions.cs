using System.CommandLine;
using System.CommandLine.Parsing;
using Engine.Training.Options;

namespace Engine.Cli;

/// <summary>
/// Typed command-line options that parse through <see cref="OptionValues"/>, so a bad value is refused before any
/// work, in one line naming the option, the value and the valid range, as configuration files refuse it.
/// </summary>
internal static class CliOptions
{
    public static Option<int> Int(string name, string help, int defaultValue, ValidRange range) =>
        Typed(name, help, defaultValue, range.Hint("N"), text => OptionValues.Int(name, text, range));

    public static Option<double> Real(string name, string help, double defaultValue, ValidRange range) =>
        Typed(name, help, defaultValue, range.Hint("X"), text => OptionValues.Real(name, text, range));

    public static Option<ulong> Seed(string name, string help, ulong defaultValue) =>
        Typed(name, help, defaultValue, "N", text => OptionValues.Seed(name, text));

    /// <summary>An integer option without a default (null when not given).</summary>
    public static Option<int?> OptionalInt(string name, string help, ValidRange range)
    {
        var option = new Option<int?>(name) { Description = help, HelpName = range.Hint("N") };
        option.CustomParser = result => Parse<int?>(result, text => OptionValues.Int(name, text, range));
        return option;
    }

    /// <summary>The command-line form of an entry of the training options' table: its value is parsed by the entry itself.</summary>
    public static Option<string?> From(RunOption spec)
    {
        var option = new Option<string?>($"--{spec.Name}")
        {
            Description = $"{spec.Help} (default: {spec.DefaultText})",
            HelpName = spec.ValueHint,
        };
        if (spec.IsSwitch) option.Arity = ArgumentArity.ZeroOrOne;
        return option;
    }

    private static Option<T> Typed<T>(string name, string help, T defaultValue, string hint, Func<string?, T> parse)
    {
        var option = new Option<T>(name) { Description = help, HelpName = hint, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result => Parse(result, parse);
        return option;
    }

    private static T Parse<T>(ArgumentResult result, Func<string?, T> parse)
    {
        try
        {
            return parse(result.Tokens.Count == 1 ? result.Tokens[0].Value : null);
        }
        catch (OptionException e)
        {
            result.AddError(e.Message);
            return default!;
        }
    }
}
