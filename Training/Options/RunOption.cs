using System.Globalization;

namespace Engine.Training.Options;

/// <summary>
/// One option of a training run, as <c>sea train --NAME</c> and as a configuration-file key: its help, the values it
/// accepts, which models read it, and how it is read from and written into a <see cref="RunConfig"/>. The command
/// line, configuration files, resume's comparison and the help text are all made from <see cref="RunOptions.All"/>.
/// </summary>
public abstract class RunOption(string name, string help, IReadOnlyList<string>? models, bool resumeMayChange)
{
    public string Name { get; } = name;
    public string Help { get; } = help;

    /// <summary>The models that read it; null for every model.</summary>
    public IReadOnlyList<string>? Models { get; } = models;

    /// <summary>Whether a resumed run may give it another value (the epoch cap and the patience).</summary>
    public bool ResumeMayChange { get; } = resumeMayChange;

    /// <summary>What the value looks like in the help: N, X, PATH, or the choices.</summary>
    public abstract string ValueHint { get; }

    /// <summary>Whether it is a switch: given alone it means true.</summary>
    public virtual bool IsSwitch => false;

    public bool AppliesTo(string model) => Models is null || Models.Contains(model);

    /// <summary>
    /// <paramref name="config"/> with this option set from <paramref name="text"/>; a value that does not fit throws an
    /// <see cref="OptionException"/> naming the option as <paramref name="given"/> (e.g. <c>--lr</c>).
    /// </summary>
    public abstract RunConfig Apply(RunConfig config, string given, string? text);

    /// <summary>The option's value in <paramref name="config"/> as it would be typed; null when unset (the model's default applies).</summary>
    public abstract string? Show(RunConfig config);

    /// <summary>Refuses a value set in code that the command line would refuse (the same parser checks it).</summary>
    public void Check(RunConfig config)
    {
        if (AppliesTo(config.Model) && Show(config) is { } text) Apply(config, Name, text);
    }

    /// <summary>The default as the help prints it, per model where models differ.</summary>
    public string DefaultText
    {
        get
        {
            var byModel = (Models ?? RunConfig.Models).Select(m => (Model: m, Value: DefaultFor(m))).ToList();
            return byModel.Select(b => b.Value).Distinct().Count() == 1
                ? byModel[0].Value
                : string.Join(", ", byModel.Select(b => $"{b.Model} {b.Value}"));
        }
    }

    /// <summary>The value a run of <paramref name="model"/> gets when the option is not given.</summary>
    protected virtual string DefaultFor(string model) => Show(new RunConfig { Model = model }) ?? "none";

    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>An option holding a <typeparamref name="T"/>, parsed by one of <see cref="OptionValues"/>' functions.</summary>
public sealed class RunOption<T>(
    string name, string help, string valueHint, Func<string, string?, T> parse, Func<RunConfig, T> get,
    Func<RunConfig, T, RunConfig> set, Func<T, string?> show, IReadOnlyList<string>? models = null, bool resumeMayChange = false,
    Func<string, string>? defaultFor = null)
    : RunOption(name, help, models, resumeMayChange)
{
    public override string ValueHint => valueHint;
    public override bool IsSwitch => typeof(T) == typeof(bool);
    public override RunConfig Apply(RunConfig config, string given, string? text) => set(config, parse(given, text));
    public override string? Show(RunConfig config) => show(get(config));
    protected override string DefaultFor(string model) => defaultFor?.Invoke(model) ?? base.DefaultFor(model);
}
