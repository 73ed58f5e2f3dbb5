using System.CommandLine;
using Engine.Cli.Plot;
using Engine.IO;

namespace Engine.Cli;

/// <summary>
/// <c>sea plot DIR... [--out FILE]</c>: the training curves of one or more runs (loss, validation Recall@20 and
/// NDCG@20 per epoch, from each run's epochs.jsonl) overlaid in one figure, written as SVG and PNG.
/// </summary>
internal static class PlotCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs")
        {
            Description = "run folders written by 'sea train --out DIR', each holding epochs.jsonl",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string?>("--out")
        {
            Description = "output file; written with .svg and .png extensions (default: curves.svg and curves.png in the first run folder)",
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
        var names = TrainingCurves.RunNames(runFolders);
        var runs = runFolders.Select((folder, i) => EpochLog.ReadRun(folder, names[i])).ToList();
        var figure = TrainingCurves.Build(runs);

        var target = output ?? Path.Combine(runFolders[0], "curves");
        var svgPath = Path.ChangeExtension(target, ".svg");
        var pngPath = Path.ChangeExtension(target, ".png");
        AtomicFile.WriteAllText(svgPath, SvgWriter.Write(figure));
        var png = PngRenderer.Encode(figure);
        AtomicFile.Write(pngPath, stream => stream.Write(png));
        log.WriteLine($"wrote {svgPath}");
        log.WriteLine($"wrote {pngPath}");
        return CliErrors.Ok;
    }
}
