using System.CommandLine;

namespace Engine.Cli;

/// <summary>
/// The `sea` command. Each subcommand lives in its own file under Commands/; this class only assembles them and turns
/// the errors a user can cause into one line on stderr and a non-zero exit code. Tests run it in-process.
/// </summary>
public static class SeaCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("sea: trains and checks multimodal recommenders (SEA, LightGCN) on the CPU or a CUDA GPU.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(RecommendCommand.Create());
        root.Subcommands.Add(GridCommand.Create());
        root.Subcommands.Add(PlotCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(CompareCommand.Create());
        root.Subcommands.Add(SynthFeaturesCommand.Create());
        root.Subcommands.Add(FeaturesCommand.Create());
        root.Subcommands.Add(GradCheckCommand.Create());
        root.Subcommands.Add(SelfTestCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(KernelsCommand.Create());
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args) =>
        // The library's own handler would print a stack trace: expected failures go through CliErrors instead.
        CliErrors.Run(() => Build().Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
}
