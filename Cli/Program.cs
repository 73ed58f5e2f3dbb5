using System.CommandLine;
using Engine.Cli;

// The `sea` command. Each subcommand lives in its own file under Commands/; this file only assembles them and turns
// the errors a user can cause into one line on stderr and a non-zero exit code.
// Spectre assumes 80 columns when output is not a terminal; tables written to files and CI logs need more room.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 160;

var root = new RootCommand("sea: trains and checks multimodal recommenders (SEA, LightGCN) on the CPU or a CUDA GPU.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(SynthFeaturesCommand.Create());
root.Subcommands.Add(GradCheckCommand.Create());
root.Subcommands.Add(SelfTestCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(PlotCommand.Create());
// The library's own handler would print a stack trace: expected failures go through CliErrors instead.
return CliErrors.Run(() => root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
