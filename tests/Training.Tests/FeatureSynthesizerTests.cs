using Engine.Training.Data;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Training.Tests;

public class FeatureSynthesizerTests
{
    /// <summary>Small widths and ranks: the structure is the same as at full size, the tests stay fast.</summary>
    private static readonly SynthesisOptions Small = new(ImageDim: 96, TextDim: 64, GenericRank: 8, UniqueRank: 4, Noise: 0.1, Seed: 999);

    private static Dataset Data() => SyntheticInteractions.Generate(users: 1500, items: 600, groups: 30, seed: 11);

    private static SynthesizedFeatures Run(Dataset d, SynthesisOptions? o = null) =>
        FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train, o ?? Small);

    private static void AssertSameBits(SynthesizedFeatures a, SynthesizedFeatures b)
    {
        Assert.Equal(a.Image.Data, b.Image.Data);
        Assert.Equal(a.Text.Data, b.Text.Data);
        Assert.Equal(a.Multimodal.Data, b.Multimodal.Data);
        Assert.Equal(a.Factors.Data, b.Factors.Data);
        Assert.Equal(a.Manifest.SingularValues, b.Manifest.SingularValues);
        Assert.Equal(a.Manifest.TrainPairsSha256, b.Manifest.TrainPairsSha256);
    }

    [Fact]
    public void The_same_seed_gives_bit_identical_features()
    {
        var d = Data();
        AssertSameBits(Run(d), Run(d));
    }

    [Fact]
    public void Different_seeds_give_different_maps_and_noise_but_the_same_factors_up_to_convergence()
    {
        var d = Data();
        var a = Run(d);
        var b = Run(d, Small with { Seed = 1000 });
        Assert.NotEqual(a.Image.Data, b.Image.Data);
        Assert.NotEqual(a.Text.Data, b.Text.Data);
        // The factors are the matrix's singular vectors, whatever the random start: the singular values agree.
        for (int j = 0; j < Small.Factors; j++)
            Assert.Equal(a.Manifest.SingularValues[j], b.Manifest.SingularValues[j], 1e-3 * a.Manifest.SingularValues[0]);
    }

    [Fact]
    public void Shapes_split_and_manifest_describe_what_was_planted()
    {
        var d = Data();
        var f = Run(d);
        var m = f.Manifest;
        Assert.Equal((d.Items, 96), (f.Image.Rows, f.Image.Cols));
        Assert.Equal((d.Items, 64), (f.Text.Rows, f.Text.Cols));
        Assert.Equal((d.Items, 16), (f.Factors.Rows, f.Factors.Cols));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], m.Split.Generic);
        Assert.Equal([8, 9, 10, 11], m.Split.ImageUnique);
        Assert.Equal([12, 13, 14, 15], m.Split.TextUnique);
        Assert.Equal([.. m.Split.Generic, .. m.Split.ImageUnique], m.Image.Factors);
        Assert.Equal([.. m.Split.Generic, .. m.Split.TextUnique], m.Text.Factors);
        Assert.Equal(Small, m.Options);
        Assert.Equal(d.Train.Count, m.TrainRows);
        Assert.Equal(d.Train.Count, m.TrainPairsUsed);
        Assert.Equal(64, m.TrainPairsSha256.Length);
        Assert.Contains("semi-synthetic", m.Description);
        Assert.Contains("training pairs", m.Description);

        Assert.Equal(16, m.SingularValues.Length);
        for (int j = 1; j < 16; j++) Assert.True(m.SingularValues[j] <= m.SingularValues[j - 1]);
        Assert.True(m.Svd.MaxRelativeResidual < 1e-2, $"residual {m.Svd.MaxRelativeResidual}");

        // Noise is relative to the signal, as asked; the norms reported are the matrices' own.
        foreach (var (r, x) in new[] { (m.Image, f.Image), (m.Text, f.Text) })
        {
            Assert.Equal(0.1, r.NoiseToSignal, 0.01);
            double total = x.Data.Sum(v => (double)v * v);
            Assert.Equal(r.SignalNorm * r.SignalNorm + r.NoiseNorm * r.NoiseNorm, total, 0.02 * total);
        }

        // Factors: orthogonal columns of unit root-mean-square over the items with training pairs.
        var v = Matrix<double>.Build.Dense(f.Factors.Rows, f.Factors.Cols, (i, j) => f.Factors[i, j]);
        var gram = v.TransposeThisAndMultiply(v) / m.ItemsWithTraining;
        Assert.True((gram - Matrix<double>.Build.DenseIdentity(16)).InfinityNorm() < 1e-4);
    }

    [Fact]
    public void The_generator_uses_no_valid_or_test_pair()
    {
        var d = Data();
        var reference = Run(d);
        var rng = new Rng(5);

        // 1. Valid and test deleted.
        var none = new InteractionSet([], []);
        AssertSameBits(reference, Run(new Dataset("v", "-", d.Users, d.Items, d.Train, none, none)));

        // 2. Valid and test swapped, and their rows shuffled.
        AssertSameBits(reference, Run(new Dataset("v", "-", d.Users, d.Items, d.Train, Shuffled(d.Test, rng), Shuffled(d.Valid, rng))));

        // 3. Valid and test replaced by random pairs of the same users.
        InteractionSet Random(InteractionSet s) => new([.. s.Users], s.Items.Select(_ => rng.NextInt(d.Items)).ToArray());
        AssertSameBits(reference, Run(new Dataset("v", "-", d.Users, d.Items, d.Train, Random(d.Valid), Random(d.Test))));

        // 4. Training rows in another order: the features depend on the set of pairs, not on their order.
        AssertSameBits(reference, Run(new Dataset("v", "-", d.Users, d.Items, Shuffled(d.Train, rng), d.Valid, d.Test)));

        // Whereas one training pair fewer changes the features and the fingerprint of the pairs used.
        var fewer = new InteractionSet(d.Train.Users[1..], d.Train.Items[1..]);
        var changed = Run(new Dataset("v", "-", d.Users, d.Items, fewer, d.Valid, d.Test));
        Assert.NotEqual(reference.Image.Data, changed.Image.Data);
        Assert.NotEqual(reference.Text.Data, changed.Text.Data);
        Assert.NotEqual(reference.Manifest.TrainPairsSha256, changed.Manifest.TrainPairsSha256);
        Assert.Equal(d.Train.Count - 1, changed.Manifest.TrainPairsUsed);
    }

    [Fact]
    public void An_item_seen_only_in_valid_or_test_carries_no_factor_and_gets_noise_only()
    {
        var d = Data();
        // Move every training pair of one item into the test set: the item is now known only to valid/test.
        int hidden = d.Train.Items.GroupBy(i => i).OrderByDescending(g => g.Count()).First().Key; // the most popular one
        var keep = Enumerable.Range(0, d.Train.Count).Where(p => d.Train.Items[p] != hidden).ToArray();
        var moved = Enumerable.Range(0, d.Train.Count).Where(p => d.Train.Items[p] == hidden).ToArray();
        var train = new InteractionSet(keep.Select(p => d.Train.Users[p]).ToArray(), keep.Select(p => d.Train.Items[p]).ToArray());
        var test = new InteractionSet([.. d.Test.Users, .. moved.Select(p => d.Train.Users[p])], [.. d.Test.Items, .. moved.Select(_ => hidden)]);
        var f = Run(new Dataset("v", "-", d.Users, d.Items, train, d.Valid, test));

        Assert.Equal(d.Items - 1, f.Manifest.ItemsWithTraining);
        Assert.All(Enumerable.Range(0, f.Factors.Cols), j => Assert.Equal(0f, f.Factors[hidden, j]));
        foreach (var (x, r) in new[] { (f.Image, f.Manifest.Image), (f.Text, f.Manifest.Text) })
        {
            // Its row is pure noise: the size of the noise, a tenth of a typical item's row.
            double norm = Math.Sqrt(x.Row(hidden).ToArray().Sum(v => (double)v * v));
            Assert.Equal(r.NoiseStd * Math.Sqrt(x.Cols), norm, 0.3 * norm);
            double typical = r.SignalNorm / Math.Sqrt(d.Items - 1);
            Assert.True(norm < 0.2 * typical, $"{norm} vs typical {typical}");
        }
    }

    [Fact]
    public void The_planted_generic_part_is_shared_and_each_unique_part_belongs_to_one_modality()
    {
        var d = SyntheticInteractions.Generate(users: 2000, items: 1000, groups: 20, seed: 3);
        var f = Run(d);
        int g = Small.GenericRank, u = Small.UniqueRank, r = g + u;
        var image = TopComponents(Centered(f.Image), r, out var imageSpectrum);
        var text = TopComponents(Centered(f.Text), r, out var textSpectrum);

        // Each modality holds g + u planted directions above a flat noise floor.
        Assert.True(imageSpectrum[r - 1] > 5 * imageSpectrum[r], $"image: {imageSpectrum[r - 1]} vs {imageSpectrum[r]}");
        Assert.True(textSpectrum[r - 1] > 5 * textSpectrum[r], $"text: {textSpectrum[r - 1]} vs {textSpectrum[r]}");

        // Canonical correlations between the two: exactly g near 1 (the generic part), the rest near 0 (unique parts).
        var rho = CanonicalCorrelations(image, text);
        for (int j = 0; j < g; j++) Assert.True(rho[j] > 0.95, $"canonical correlation {j + 1} = {rho[j]}: {string.Join(", ", rho)}");
        for (int j = g; j < r; j++) Assert.True(rho[j] < 0.3, $"canonical correlation {j + 1} = {rho[j]}: {string.Join(", ", rho)}");

        // In the shared canonical space an item's image and text vectors point the same way; other items' do not.
        var (imageShared, textShared) = CanonicalVariates(image, text, g);
        double same = 0, other = 0;
        int n = imageShared.RowCount, closer = 0;
        for (int i = 0; i < n; i++)
        {
            double own = Cosine(imageShared.Row(i), textShared.Row(i));
            double another = Cosine(imageShared.Row(i), textShared.Row((i + 1 + i * 7 % (n - 1)) % n));
            same += own;
            other += another;
            if (own > another) closer++;
        }
        Assert.True(same / n > 0.9, $"mean cosine of an item's image and text: {same / n}");
        Assert.True(other / n < 0.3, $"mean cosine across items: {other / n}");
        Assert.True(closer > 0.95 * n, $"an item's text is closer to its image than another item's text for {closer} of {n} items");

        // Each unique factor is readable from its own modality and not from the other.
        var factors = Centered(f.Factors);
        foreach (int j in f.Manifest.Split.ImageUnique)
        {
            Assert.True(ExplainedShare(image, factors.Column(j)) > 0.95);
            Assert.True(ExplainedShare(text, factors.Column(j)) < 0.1);
        }
        foreach (int j in f.Manifest.Split.TextUnique)
        {
            Assert.True(ExplainedShare(text, factors.Column(j)) > 0.95);
            Assert.True(ExplainedShare(image, factors.Column(j)) < 0.1);
        }
        foreach (int j in f.Manifest.Split.Generic)
        {
            Assert.True(ExplainedShare(image, factors.Column(j)) > 0.95);
            Assert.True(ExplainedShare(text, factors.Column(j)) > 0.95);
        }
    }

    /// <summary>
    /// The fused multimodal features hold every planted factor (generic and both unique parts) above the noise, with
    /// noise a tenth of the signal, and adding them leaves the image and text features as they were.
    /// </summary>
    [Fact]
    public void The_fused_multimodal_features_carry_every_factor()
    {
        var d = Data();
        var o = Small with { MultimodalDim = 96 };
        var f = Run(d, o);
        Assert.Equal((d.Items, 96), (f.Multimodal.Rows, f.Multimodal.Cols));
        Assert.Equal([.. f.Manifest.Split.Generic, .. f.Manifest.Split.ImageUnique, .. f.Manifest.Split.TextUnique], f.Manifest.Multimodal!.Factors);
        Assert.Equal(0.1, f.Manifest.Multimodal.NoiseToSignal, 0.01);

        int r = o.Factors;
        var fused = TopComponents(Centered(f.Multimodal), r, out var spectrum);
        Assert.True(spectrum[r - 1] > 5 * spectrum[r], $"{spectrum[r - 1]} vs {spectrum[r]}");
        var factors = Centered(f.Factors);
        for (int j = 0; j < r; j++) Assert.True(ExplainedShare(fused, factors.Column(j)) > 0.95, $"factor {j + 1}");

        var other = Run(d, o with { MultimodalDim = 40 });
        Assert.Equal(f.Image.Data, other.Image.Data);
        Assert.Equal(f.Text.Data, other.Text.Data);
    }

    [Fact]
    public void The_folder_round_trips_through_Dataset_Load()
    {
        using var tmp = new TempFolder("synthetic");
        var inter = tmp.Write("synthetic.inter", InterText(Data()));
        var d = Dataset.Load(tmp.Folder);
        var f = Run(d);
        var output = Path.Combine(Path.GetDirectoryName(tmp.Folder)!, "synthetic-synth");
        var written = FeatureSynthesizer.WriteFolder(inter, output, f);

        var back = Dataset.Load(output);
        Assert.Equal(File.ReadAllBytes(inter), File.ReadAllBytes(Path.Combine(output, "synthetic.inter")));
        Assert.Equal((d.Users, d.Items), (back.Users, back.Items));
        Assert.Equal(d.Train.Items, back.Train.Items);
        Assert.Equal(d.Test.Items, back.Test.Items);
        Assert.Equal(f.Image.Data, back.Image!.Data);
        Assert.Equal(f.Text.Data, back.Text!.Data);
        Assert.Null(back.Multimodal); // read only when asked for
        Assert.Equal(f.Multimodal.Data, Dataset.Load(output, loadMultimodal: true).Multimodal!.Data);
        Assert.Equal(f.Factors.Data, NpyFile.Read(Path.Combine(output, FeatureSynthesizer.FactorsFile)).Data);

        var manifest = FeatureSynthesizer.ReadManifest(Path.Combine(output, FeatureSynthesizer.ManifestFile));
        Assert.Equal(Path.GetFullPath(inter), manifest.SourceInter);
        Assert.Equal(written.Options, manifest.Options);
        Assert.Equal(written.SingularValues, manifest.SingularValues);
        Assert.Equal(written.Split.Generic, manifest.Split.Generic);
        Assert.Equal(written.Image.NoiseNorm, manifest.Image.NoiseNorm);
        Assert.Equal(written.Description, manifest.Description);
        Assert.Contains("\"train_pairs_sha256\"", File.ReadAllText(Path.Combine(output, FeatureSynthesizer.ManifestFile)));

        // A second write needs force; with it, the files are replaced.
        var again = Assert.Throws<ArgumentException>(() => FeatureSynthesizer.WriteFolder(inter, output, f));
        Assert.Contains("force", again.Message);
        FeatureSynthesizer.WriteFolder(inter, output, f, force: true);
    }

    [Fact]
    public void Writing_into_the_dataset_folder_or_shared_data_is_refused()
    {
        using var tmp = new TempFolder("synthetic");
        var inter = tmp.Write("synthetic.inter", InterText(Data()));
        var f = Run(Dataset.Load(tmp.Folder));
        var parent = Path.GetDirectoryName(tmp.Folder)!;

        var own = Assert.Throws<ArgumentException>(() => FeatureSynthesizer.WriteFolder(inter, tmp.Folder, f));
        Assert.Contains("own folder", own.Message);
        var viaDots = Assert.Throws<ArgumentException>(() =>
            FeatureSynthesizer.WriteFolder(inter, Path.Combine(tmp.Folder, "..", "synthetic") + Path.DirectorySeparatorChar, f));
        Assert.Contains("own folder", viaDots.Message);

        var sharedData = Path.Combine(parent, "shared", "data", "synthetic-synth");
        Assert.Contains("real datasets", Assert.Throws<ArgumentException>(() => FeatureSynthesizer.WriteFolder(inter, sharedData, f)).Message);
        Directory.CreateDirectory(Path.Combine(parent, "shared", "data"));
        var sharedRuns = Path.Combine(parent, "shared", "runs", "synthetic-synth");
        Assert.Contains("real datasets", Assert.Throws<ArgumentException>(() => FeatureSynthesizer.WriteFolder(inter, sharedRuns, f)).Message);

        // Through a symbolic link to the dataset folder.
        var link = Path.Combine(parent, "link");
        Directory.CreateSymbolicLink(link, tmp.Folder);
        Assert.Contains("own folder", Assert.Throws<ArgumentException>(() => FeatureSynthesizer.WriteFolder(inter, link, f)).Message);

        Assert.False(File.Exists(Path.Combine(tmp.Folder, Dataset.ImageFeatureFile)));
        Assert.False(Directory.Exists(sharedData));
        Assert.False(Directory.Exists(sharedRuns));
    }

    [Fact]
    public void Ranks_beyond_the_items_with_training_pairs_are_refused()
    {
        var d = SyntheticInteractions.Generate(users: 40, items: 12, groups: 2, minPerUser: 4, maxPerUser: 6, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => Run(d, Small with { GenericRank = 8, UniqueRank = 4 }));
        Assert.Contains("lower the ranks", e.Message);
        Assert.Throws<ArgumentException>(() => Run(d, Small with { Noise = -1 }));
        var f = Run(d, Small with { GenericRank = 2, UniqueRank = 1 });
        Assert.Equal(4, f.Factors.Cols);
    }

    // ------------------------------------------------------------------ helpers

    internal static string InterText(Dataset d)
    {
        var text = new System.Text.StringBuilder(DatasetTests.Header);
        foreach (var (set, label) in new[] { (d.Train, 0), (d.Valid, 1), (d.Test, 2) })
            for (int p = 0; p < set.Count; p++) text.Append($"{set.Users[p]}\t{set.Items[p]}\t{label}\n");
        return text.ToString();
    }

    private static InteractionSet Shuffled(InteractionSet s, Rng rng)
    {
        var order = rng.Permutation(s.Count);
        return new InteractionSet(order.Select(p => s.Users[p]).ToArray(), order.Select(p => s.Items[p]).ToArray());
    }

    private static Matrix<double> Centered(FeatureMatrix f)
    {
        var m = Matrix<double>.Build.Dense(f.Rows, f.Cols, (i, j) => f[i, j]);
        for (int j = 0; j < m.ColumnCount; j++)
        {
            double mean = m.Column(j).Average();
            for (int i = 0; i < m.RowCount; i++) m[i, j] -= mean;
        }
        return m;
    }

    /// <summary>Scores on the top <paramref name="r"/> principal components; <paramref name="spectrum"/>: all singular values, descending.</summary>
    private static Matrix<double> TopComponents(Matrix<double> centered, int r, out double[] spectrum)
    {
        var evd = centered.TransposeThisAndMultiply(centered).Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, centered.ColumnCount).OrderByDescending(j => evd.EigenValues[j].Real).ToArray();
        spectrum = order.Select(j => Math.Sqrt(Math.Max(evd.EigenValues[j].Real, 0))).ToArray();
        var w = Matrix<double>.Build.Dense(centered.ColumnCount, r, (row, c) => evd.EigenVectors[row, order[c]]);
        return centered * w;
    }

    private static double[] CanonicalCorrelations(Matrix<double> a, Matrix<double> b) =>
        a.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q
            .TransposeThisAndMultiply(b.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q)
            .Svd(computeVectors: false).S.ToArray();

    /// <summary>The first <paramref name="count"/> canonical variates of each side (items × count, unit variance columns).</summary>
    private static (Matrix<double> A, Matrix<double> B) CanonicalVariates(Matrix<double> a, Matrix<double> b, int count)
    {
        var qa = a.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q;
        var qb = b.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q;
        var svd = qa.TransposeThisAndMultiply(qb).Svd(computeVectors: true);
        return ((qa * svd.U).SubMatrix(0, a.RowCount, 0, count), (qb * svd.VT.Transpose()).SubMatrix(0, b.RowCount, 0, count));
    }

    /// <summary>R² of the least-squares fit of <paramref name="y"/> (centered) on the columns of <paramref name="x"/>.</summary>
    private static double ExplainedShare(Matrix<double> x, Vector<double> y)
    {
        var q = x.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q;
        var fitted = q * q.TransposeThisAndMultiply(y);
        return fitted.DotProduct(fitted) / y.DotProduct(y);
    }

    private static double Cosine(Vector<double> a, Vector<double> b) => a.DotProduct(b) / (a.L2Norm() * b.L2Norm());
}
