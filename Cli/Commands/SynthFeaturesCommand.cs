using System.CommandLine;
using Engine.Training.Options;
using System.Diagnostics;
using System.Globalization;
using Engine.Training.Data;

namespace Engine.Cli;

/// <summary>
/// <c>sea synth-features --data DIR --out DIR</c>: semi-synthetic image, text and fused multimodal features with a
/// planted generic/unique structure, derived from a real dataset's training pairs only, written with a copy of its .inter
/// into a new folder (never into the dataset's own folder nor into shared/data).
/// </summary>
internal static class SynthFeaturesCommand
{
    public static Command Create()
    {
        var defaults = new SynthesisOptions();
        var data = new Option<string>("--data") { Description = "a MMRec dataset folder; only its training pairs (x_label 0) are used", Required = true };
        var output = new Option<string>("--out") { Description = "the new folder to write (a copy of the .inter, image_feat.npy, text_feat.npy, mm_feat.npy, planted_factors.npy, manifest.json)", Required = true };
        var imageDim = CliOptions.Int("--image-dim", "image feature width", defaults.ImageDim, ValidRange.Between(1, 65_536));
        var textDim = CliOptions.Int("--text-dim", "text feature width", defaults.TextDim, ValidRange.Between(1, 65_536));
        var multimodalDim = CliOptions.Int("--mm-dim", "width of the fused multimodal features (mm_feat.npy, AlignRec's input)", defaults.MultimodalDim, ValidRange.Between(1, 65_536));
        var genericRank = CliOptions.Int("--generic-rank", "item factors shared by both modalities", defaults.GenericRank, ValidRange.AtLeast(0));
        var uniqueRank = CliOptions.Int("--unique-rank", "item factors each modality carries alone", defaults.UniqueRank, ValidRange.AtLeast(0));
        var noise = CliOptions.Real("--noise", "noise standard deviation relative to the signal's root-mean-square entry", defaults.Noise, ValidRange.NonNegative);
        var seed = CliOptions.Seed("--seed", "seed of the factorisation start, the maps and the noise", defaults.Seed);
        var force = new Option<bool>("--force") { Description = "overwrite feature files already in --out" };
        var command = new Command("synth-features",
            "Writes semi-synthetic item features (planted generic + unique factors of the training matrix) beside a copy of a dataset's .inter.")
        {
            data, output, imageDim, textDim, multimodalDim, genericRank, uniqueRank, noise, seed, force,
        };
        command.SetAction(parse => Run(parse.GetValue(data)!, parse.GetValue(output)!,
            new SynthesisOptions(parse.GetValue(imageDim), parse.GetValue(textDim), parse.GetValue(genericRank),
                parse.GetValue(uniqueRank), parse.GetValue(noise), parse.GetValue(seed), parse.GetValue(multimodalDim)),
            parse.GetValue(force), Console.Out));
        return command;
    }

    public static int Run(string dataFolder, string outFolder, SynthesisOptions options, bool force, TextWriter stdout)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        // Features are not loaded: the source folder's own feature files (if any) play no part.
        var d = Dataset.Load(dataFolder, loadFeatures: false);
        var inter = Path.Combine(d.Folder, d.Name + ".inter");
        FeatureSynthesizer.CheckOutputFolder(inter, outFolder, force); // fail before the work, not after it
        stdout.WriteLine($"read {inter}: {d.Users} users, {d.Items} items; {d.Train.Count} training pairs go to the " +
                         $"generator ({d.Valid.Count} valid and {d.Test.Count} test pairs do not)");

        // Only the training set is handed over: the generator cannot see valid or test pairs.
        var features = FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train, options);
        double synthSeconds = clock.Elapsed.TotalSeconds;
        var m = FeatureSynthesizer.WriteFolder(inter, outFolder, features, force);

        // Read the folder back as a dataset: the files must load, with the right shapes.
        var check = Dataset.Load(outFolder, loadFeatures: true, loadMultimodal: true);
        if (check.Items != d.Items || check.Train.Count != d.Train.Count || check.Image is null || check.Text is null || check.Multimodal is null)
            throw new InvalidOperationException($"'{outFolder}' did not load back as the dataset just written");

        string Values(IEnumerable<double> v) => string.Join(" ", v.Select(x => x.ToString("0.##", CultureInfo.InvariantCulture)));
        string Part(int[] f) => f.Length == 0 ? "none" : $"{f[0] + 1}–{f[^1] + 1}";
        stdout.WriteLine($"planted {options.Factors} item factors (top right singular vectors of the training matrix, " +
                         $"residual {m.Svd.MaxRelativeResidual:0.0e+0}): generic {Part(m.Split.Generic)}, " +
                         $"image-unique {Part(m.Split.ImageUnique)}, text-unique {Part(m.Split.TextUnique)}");
        stdout.WriteLine($"singular values {Values(m.SingularValues)}");
        stdout.WriteLine($"{m.ItemsWithTraining} of {m.Items} items carry factors; {m.Items - m.ItemsWithTraining} have no training pair and get noise only");
        foreach (var r in new[] { m.Image, m.Text, m.Multimodal! })
            stdout.WriteLine($"{r.File,-15} {m.Items}×{r.Width}  signal norm {r.SignalNorm:0.0} (generic {r.GenericNorm:0.0}, " +
                             $"unique {r.UniqueNorm:0.0}), noise norm {r.NoiseNorm:0.0} (noise/signal {r.NoiseToSignal:0.000})");
        stdout.WriteLine($"training pairs used: {m.TrainPairsUsed} (sha256 {m.TrainPairsSha256[..16]}…)");
        stdout.WriteLine($"wrote {Path.GetFullPath(outFolder)}: {Path.GetFileName(inter)} (copy), {Dataset.ImageFeatureFile}, " +
                         $"{Dataset.TextFeatureFile}, {Dataset.MultimodalFeatureFile}, {FeatureSynthesizer.FactorsFile}, {FeatureSynthesizer.ManifestFile} " +
                         $"({synthSeconds:0.0} s to synthesize, {clock.Elapsed.TotalSeconds:0.0} s in all)");
        stdout.WriteLine("report results on this folder as \"semi-synthetic features\"");
        return CliErrors.Ok;
    }
}
