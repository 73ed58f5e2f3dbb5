using Spectre.Console;

namespace Engine.Cli.Tests;

/// <summary>Runs the CLI in this process with its console captured.</summary>
internal static class InProcess
{
    /// <summary>Runs <c>sea args…</c>; returns the exit code and everything written to stdout and stderr.</summary>
    public static (int Exit, string Output) Sea(params string[] args)
    {
        var writer = new StringWriter();
        var (stdout, stderr, ansi) = (Console.Out, Console.Error, AnsiConsole.Console);
        Console.SetOut(writer);
        Console.SetError(writer);
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No });
        try
        {
            return (SeaCli.Run(args), writer.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            AnsiConsole.Console = ansi;
        }
    }
}
