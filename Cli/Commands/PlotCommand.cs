using System.CommandLine;
using System.Text;
using Engine.Cli.Plot;
using Engine.IO;

namespace Engine.Cli;

/// <summary>
/// <c>sea plot DIR... [--out FILE]</c>: the training curves of one or more runs (loss, validation Recall@20 and
/// NDCG@20 per epoch, from each run's epochs.jsonl) overlaid in one figure, drawn with ScottPlot as SVG and/or PNG.
/// </summary>
internal static class PlotCommand
{
    /// <summary>The PNG has this many pixels per SVG unit, for sharp lines and text on high-density screens.</summary>
    public const int PngScale = 2;

    public static Command Create()
    {
        var runs = new Argument<string[]>("runs")
        {
            Description = "run folders written by 'sea train --out DIR', each holding epochs.jsonl",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string?>("--out")
        {
            Description = "output file: FILE.svg or FILE.png writes that one, FILE with no extension writes both (default: curves.svg and curves.png in the first run folder)",
        };
        var command = new Command("plot", "Plots training curves (loss, valid Recall@20 and NDCG@20 per epoch) of one or more runs as SVG and PNG.")
        {
            runs, output,
        };
        command.SetAction(parse => Run(parse.GetValue(runs)!, parse.GetValue(output), Console.Out));
        return command;
    }

    public static int Run(IReadOnlyList<string> runFolders, string? output, TextWriter log)
    {
        if (runFolders.Count == 0) throw new ArgumentException("name at least one run folder");
        var targets = OutputFiles(output ?? Path.Combine(runFolders[0], "curves"));
        var names = TrainingCurves.RunNames(runFolders);
        var runs = runFolders.Select((folder, i) => EpochLog.ReadRun(folder, names[i])).ToList();

        // Everything is drawn before anything is written, and each file is written whole or not at all.
        using var figure = TrainingCurves.Build(runs);
        var files = targets.Select(t => (t.Path, Bytes: t.Png ? figure.ToPng(PngScale) : Encoding.UTF8.GetBytes(figure.ToSvg()))).ToList();
        foreach (var (path, bytes) in files)
        {
            AtomicFile.Write(path, stream => stream.Write(bytes));
            log.WriteLine($"wrote {path}");
        }
        return CliErrors.Ok;
    }

    /// <summary>The files that <c>--out</c> names: its own extension picks the format, none means both.</summary>
    private static List<(string Path, bool Png)> OutputFiles(string target) =>
        Path.GetExtension(target).ToLowerInvariant() switch
        {
            "" => [(target + ".svg", false), (target + ".png", true)],
            ".svg" => [(target, false)],
            ".png" => [(target, true)],
            var other => throw new ArgumentException($"--out {target}: unknown extension '{other}' (expected .svg, .png, or none for both)"),
        };
}
