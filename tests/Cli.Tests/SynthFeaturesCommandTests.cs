using System.Text;
using Engine.Training.Data;

namespace Engine.Cli.Tests;

public class SynthFeaturesCommandTests
{
    [Fact]
    public void Synth_features_writes_a_loadable_dataset_folder_beside_the_source_and_refuses_the_source_itself()
    {
        var parent = Path.Combine(Path.GetTempPath(), "sea-synth-" + Guid.NewGuid().ToString("N"));
        var source = Path.Combine(parent, "tiny");
        var output = Path.Combine(parent, "tiny-synth");
        try
        {
            // 12 users × 10 items, each user with 6 items (4 train, 1 valid, 1 test); item 9 appears only in test.
            Directory.CreateDirectory(source);
            var inter = new StringBuilder("userID\titemID\tx_label\n");
            for (int u = 0; u < 12; u++)
                for (int k = 0; k < 6; k++)
                {
                    int item = k == 5 && u == 0 ? 9 : (u + 2 * k) % 9;
                    inter.Append($"{u}\t{item}\t{(k < 4 ? 0 : k == 4 ? 1 : 2)}\n");
                }
            File.WriteAllText(Path.Combine(source, "tiny.inter"), inter.ToString());
            var options = new SynthesisOptions(ImageDim: 16, TextDim: 8, GenericRank: 2, UniqueRank: 1, Noise: 0.1, Seed: 7, MultimodalDim: 12);

            var stdout = new StringWriter();
            Assert.Equal(CliErrors.Ok, SynthFeaturesCommand.Run(source, output, options, force: false, stdout));
            var text = stdout.ToString();
            Assert.Contains("48 training pairs go to the generator (12 valid and 12 test pairs do not)", text);
            Assert.Contains("generic 1–2, image-unique 3–3, text-unique 4–4", text);
            Assert.Contains("9 of 10 items carry factors; 1 have no training pair", text);
            Assert.Contains("semi-synthetic", text);
            Assert.Contains("mm_feat.npy     10×12", text);

            var d = Dataset.Load(output);
            Assert.Equal((12, 10), (d.Users, d.Items));
            Assert.Equal((10, 16), (d.Image!.Rows, d.Image.Cols));
            Assert.Equal((10, 8), (d.Text!.Rows, d.Text.Cols));
            var multimodal = Dataset.Load(output, loadMultimodal: true).Multimodal!;
            Assert.Equal((10, 12), (multimodal.Rows, multimodal.Cols));
            var manifest = FeatureSynthesizer.ReadManifest(Path.Combine(output, FeatureSynthesizer.ManifestFile));
            Assert.Equal(48, manifest.TrainPairsUsed);
            Assert.Equal(options, manifest.Options);
            Assert.All(NpyFile.Read(Path.Combine(output, FeatureSynthesizer.FactorsFile)).Row(9).ToArray(), v => Assert.Equal(0f, v));
            Assert.False(File.Exists(Path.Combine(source, Dataset.ImageFeatureFile)));

            // Refusals are ArgumentExceptions, which the CLI's handler (CliErrors) prints as one line; nothing is written.
            var own = Assert.Throws<ArgumentException>(() => SynthFeaturesCommand.Run(source, source, options, false, TextWriter.Null));
            Assert.Contains("own folder", own.Message);
            var again = Assert.Throws<ArgumentException>(() => SynthFeaturesCommand.Run(source, output, options, false, TextWriter.Null));
            Assert.Contains("--force", again.Message);
            Assert.False(File.Exists(Path.Combine(source, Dataset.ImageFeatureFile)));

            // With --force the same seed rewrites the same bytes.
            var before = File.ReadAllBytes(Path.Combine(output, Dataset.ImageFeatureFile));
            Assert.Equal(CliErrors.Ok, SynthFeaturesCommand.Run(source, output, options, force: true, TextWriter.Null));
            Assert.Equal(before, File.ReadAllBytes(Path.Combine(output, Dataset.ImageFeatureFile)));
        }
        finally
        {
            if (Directory.Exists(parent)) Directory.Delete(parent, recursive: true);
        }
    }

    [Fact]
    public void Synth_features_is_registered_with_its_options()
    {
        var command = SynthFeaturesCommand.Create();
        Assert.Equal("synth-features", command.Name);
        var names = command.Options.Select(o => o.Name).ToArray();
        foreach (var name in new[] { "--data", "--out", "--image-dim", "--text-dim", "--mm-dim", "--generic-rank", "--unique-rank", "--noise", "--seed", "--force" })
            Assert.Contains(name, names);
        var parse = command.Parse(["--data", "a", "--out", "b"]);
        Assert.Empty(parse.Errors);
        Assert.NotEmpty(command.Parse(["--data", "a"]).Errors); // --out is required
    }
}
