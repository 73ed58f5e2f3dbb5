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
        var root = new RootCommand("sea: trains and checks multimodal recommenders (SEA, VBPR, FREEDOM, AlignRec, DRepMRec and their plug-in variants, LightGCN) on the CPU or a CUDA GPU.");
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
    public static int Run(string[] args) => CliErrors.Run(() =>
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, not the library's error list followed by the whole help.
            Console.Error.WriteLine($"sea: error: {parse.Errors[0].Message} (see '{CommandPath(parse.CommandResult)} --help')");
            return CliErrors.BadInput;
        }
        // The library's own handler would print a stack trace: expected failures go through CliErrors instead.
        return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    });

    /// <summary>"sea bench ops" for the command a parse stopped in.</summary>
    private static string CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (var r = result; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Parent is null ? "sea" : r.Command.Name);
        return string.Join(' ', names);
    }
}
