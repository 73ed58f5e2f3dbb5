using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Engine.IO;

namespace Engine.Training.Data;

/// <summary>
/// Settings of <see cref="FeatureSynthesizer"/>: feature widths, how many planted factors are generic (shared by
/// both modalities) and unique (one modality's own), the noise relative to the signal, the seed, and the width of
/// the fused multimodal features (768, as AlignRec's BEiT-3 ones).
/// </summary>
public sealed record SynthesisOptions(int ImageDim = 4096, int TextDim = 384, int GenericRank = 16, int UniqueRank = 8,
    double Noise = 0.1, ulong Seed = 999, int MultimodalDim = 768)
{
    /// <summary>Item factors taken from the training matrix: generic, then the image's unique, then the text's unique.</summary>
    [JsonIgnore]
    public int Factors => GenericRank + 2 * UniqueRank;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that cannot be used.</summary>
    public void Validate()
    {
        if (ImageDim < 1) throw new ArgumentException($"image width {ImageDim} must be at least 1");
        if (TextDim < 1) throw new ArgumentException($"text width {TextDim} must be at least 1");
        if (MultimodalDim < 1) throw new ArgumentException($"multimodal width {MultimodalDim} must be at least 1");
        if (GenericRank < 0) throw new ArgumentException($"generic rank {GenericRank} must be ≥ 0");
        if (UniqueRank < 0) throw new ArgumentException($"unique rank {UniqueRank} must be ≥ 0");
        if (GenericRank + UniqueRank < 1) throw new ArgumentException("generic rank + unique rank must be at least 1, or the features carry nothing");
        if (!double.IsFinite(Noise) || Noise < 0) throw new ArgumentException($"noise {Noise} must be a finite number ≥ 0");
    }
}

/// <summary>Which planted factors (0-based, in order of decreasing singular value) make up each part.</summary>
public sealed record FactorSplit(int[] Generic, int[] ImageUnique, int[] TextUnique);

/// <summary>How the item factors were computed, and how well they converged.</summary>
public sealed record SvdReport(string Method, int Subspace, int PowerIterations, double MaxRelativeResidual);

/// <summary>
/// One modality's features: which factors it carries, and the size of what was planted. Norms are Frobenius norms
/// over all items. <c>GenericNorm</c> and <c>UniqueNorm</c> are the norms of the generic and unique parts mapped
/// alone; their squares add up to <c>SignalNorm</c>² only up to a small cross term, since the map is random rather
/// than orthogonal.
/// </summary>
public sealed record ModalityReport(string File, int Width, int[] Factors, double MapStd, double SignalNorm,
    double GenericNorm, double UniqueNorm, double NoiseStd, double NoiseNorm, double NoiseToSignal);

/// <summary>What <see cref="FeatureSynthesizer"/> planted, written beside the features as manifest.json.</summary>
public sealed record SynthesisManifest(
    string Format,
    string Description,
    SynthesisOptions Options,
    int Users,
    int Items,
    int TrainRows,
    int TrainPairsUsed,
    string TrainPairsSha256,
    int UsersWithTraining,
    int ItemsWithTraining,
    FactorSplit Split,
    double[] SingularValues,
    string Scaling,
    SvdReport Svd,
    ModalityReport Image,
    ModalityReport Text,
    string? SourceInter = null,
    ModalityReport? Multimodal = null);

/// <summary>
/// The image and text feature matrices, the planted factors they were made from (items × factors, scaled as
/// <see cref="SynthesisManifest.Scaling"/> says; zero rows for items without training pairs), the manifest, and the
/// fused multimodal features (every factor, as one vector per item).
/// </summary>
public sealed record SynthesizedFeatures(FeatureMatrix Image, FeatureMatrix Text, FeatureMatrix Factors, SynthesisManifest Manifest,
    FeatureMatrix Multimodal);

/// <summary>
/// Semi-synthetic item features for a real interaction set, with a known generic/unique structure (EVAL.md,
/// "What is in ../shared/data"). The item factors are the top right singular vectors of the binary user × item
/// matrix of the <b>training pairs only</b>: the generator is given the training set and nothing else, so valid and
/// test pairs cannot leak into the features. Both modalities carry the first <c>GenericRank</c> factors; the image
/// carries the next <c>UniqueRank</c> and the text the <c>UniqueRank</c> after those, so each modality holds
/// information the other lacks. Each modality's factors go through its own fixed seeded Gaussian map to the
/// feature width, plus Gaussian noise. The fused multimodal features (for AlignRec) carry all the factors, generic
/// and both unique parts, through a third map, as a fused image + text encoder would. Deterministic for a seed, on
/// any machine and thread count, and independent of the order of the training pairs.
/// </summary>
public static class FeatureSynthesizer
{
    public const string Format = "sea-semi-synthetic-features/1";
    public const string ManifestFile = "manifest.json";
    public const string FactorsFile = "planted_factors.npy";

    /// <summary>Extra directions carried by the subspace iteration beyond the factors wanted; they speed its convergence.</summary>
    private const int Oversampling = 32;

    private const int PowerIterations = 40;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // keep ×, ‖ and – readable in the manifest
    };

    // Independent random streams, all derived from the seed.
    private enum RandomStream : ulong
    {
        SvdStart = 1, ImageMap = 2, TextMap = 3, ImageNoise = 4, TextNoise = 5, MultimodalMap = 6, MultimodalNoise = 7,
    }

    /// <summary>
    /// Derives features for <paramref name="items"/> items from <paramref name="train"/> (the x_label 0 pairs).
    /// Repeated pairs count once; the order of the pairs does not matter.
    /// </summary>
    public static SynthesizedFeatures Synthesize(int users, int items, InteractionSet train, SynthesisOptions o)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(o);
        ArgumentOutOfRangeException.ThrowIfNegative(users);
        ArgumentOutOfRangeException.ThrowIfNegative(items);
        o.Validate();
        train.CheckIds(users, items, "train");

        var x = BinaryMatrix.FromPairs(users, items, train);
        int k = o.Factors;
        if (k > x.ItemsWithPairs)
            throw new ArgumentException(
                $"{k} factors (generic rank {o.GenericRank} + 2 × unique rank {o.UniqueRank}) need at least {k} items with " +
                $"training pairs, but only {x.ItemsWithPairs} of the {items} items have any; lower the ranks");

        var (vectors, sigma, residual, subspace) = TopItemFactors(x, k, o.Seed);

        // Each factor column has unit norm and lives on the items with training pairs: scaling it by sqrt(that count)
        // gives it unit root-mean-square over them, so every planted factor weighs the same and noise is relative to 1.
        double scale = Math.Sqrt(x.ItemsWithPairs);
        var factors = new double[items * k];
        for (int j = 0; j < k; j++)
            for (int i = 0; i < items; i++)
                factors[i * k + j] = vectors[j][i] * scale;

        var split = new FactorSplit(
            Enumerable.Range(0, o.GenericRank).ToArray(),
            Enumerable.Range(o.GenericRank, o.UniqueRank).ToArray(),
            Enumerable.Range(o.GenericRank + o.UniqueRank, o.UniqueRank).ToArray());
        var (image, imageReport) = Modality(x, factors, k, [.. split.Generic, .. split.ImageUnique], o.GenericRank,
            o.ImageDim, o, RandomStream.ImageMap, RandomStream.ImageNoise, Dataset.ImageFeatureFile);
        var (text, textReport) = Modality(x, factors, k, [.. split.Generic, .. split.TextUnique], o.GenericRank,
            o.TextDim, o, RandomStream.TextMap, RandomStream.TextNoise, Dataset.TextFeatureFile);
        var (multimodal, multimodalReport) = Modality(x, factors, k, [.. split.Generic, .. split.ImageUnique, .. split.TextUnique],
            o.GenericRank, o.MultimodalDim, o, RandomStream.MultimodalMap, RandomStream.MultimodalNoise, Dataset.MultimodalFeatureFile);

        var manifest = new SynthesisManifest(Format, Describe(x, o, sigma), o, users, items, train.Count, x.Pairs,
            x.Sha256, x.UsersWithPairs, x.ItemsWithPairs, split, sigma,
            $"each factor (a unit right singular vector) is multiplied by sqrt({x.ItemsWithPairs}), the number of items " +
            "with training pairs, so that it has unit root-mean-square over those items; singular values are not applied",
            new SvdReport("randomized subspace iteration on XᵀX (X = binary users × items training matrix, sparse), " +
                          "Gram–Schmidt re-orthonormalisation, Rayleigh–Ritz (Jacobi) at the end",
                subspace, PowerIterations, residual),
            imageReport, textReport, Multimodal: multimodalReport);
        return new SynthesizedFeatures(image, text,
            new FeatureMatrix(items, k, Array.ConvertAll(factors, v => (float)v)), manifest, multimodal);
    }

    /// <summary>
    /// Throws unless <paramref name="outFolder"/> is a fit place for a synthesized copy of the dataset whose .inter is
    /// <paramref name="interPath"/>: not that dataset's own folder, not inside a <c>shared</c> folder holding
    /// <c>data</c> (the real datasets) nor any <c>shared/data</c> path, and (unless <paramref name="force"/>) not
    /// already holding feature files. Symbolic links are resolved before comparing.
    /// </summary>
    public static void CheckOutputFolder(string interPath, string outFolder, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(interPath);
        ArgumentNullException.ThrowIfNull(outFolder);
        if (!File.Exists(interPath)) throw new FileNotFoundException($"'{interPath}' does not exist", interPath);
        var dataFolder = RealPath(Path.GetDirectoryName(Path.GetFullPath(interPath))!);
        var outFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outFolder));
        var outReal = RealPath(outFull);

        if (outReal == dataFolder)
            throw new ArgumentException(
                $"refusing to write into '{outFolder}': it is the dataset's own folder; synthesized features go into a new folder beside it");
        foreach (var path in new[] { outFull, outReal })
            if (InsideSharedData(path) is { } shared)
                throw new ArgumentException(
                    $"refusing to write into '{outFolder}': it is inside '{shared}', where the real datasets live; " +
                    "write the semi-synthetic copy elsewhere (e.g. /tmp/<name>-synth)");

        if (!Directory.Exists(outReal)) return;
        var interName = Path.GetFileName(interPath);
        var otherInter = Directory.GetFiles(outReal, "*.inter").Select(Path.GetFileName).Where(n => n != interName).ToArray();
        if (otherInter.Length > 0)
            throw new ArgumentException(
                $"refusing to write into '{outFolder}': it holds {string.Join(", ", otherInter)}, so it would not be one " +
                $"dataset with {interName}; choose an empty or new folder");
        var present = new[] { Dataset.ImageFeatureFile, Dataset.TextFeatureFile, Dataset.MultimodalFeatureFile, FactorsFile, ManifestFile, interName }
            .Where(n => File.Exists(Path.Combine(outReal, n))).ToArray();
        if (present.Length > 0 && !force)
            throw new ArgumentException(
                $"refusing to overwrite {string.Join(", ", present)} in '{outFolder}' (force it with --force)");
    }

    /// <summary>
    /// Writes a complete MMRec dataset folder: a copy of <paramref name="interPath"/>, image_feat.npy, text_feat.npy,
    /// mm_feat.npy, planted_factors.npy and, last, manifest.json; every file atomically. Checks the folder first
    /// (<see cref="CheckOutputFolder"/>). Returns the manifest as written (with the source .inter named).
    /// </summary>
    public static SynthesisManifest WriteFolder(string interPath, string outFolder, SynthesizedFeatures features, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(features);
        CheckOutputFolder(interPath, outFolder, force);
        Directory.CreateDirectory(outFolder);
        NpyFile.Write(Path.Combine(outFolder, Dataset.ImageFeatureFile), features.Image);
        NpyFile.Write(Path.Combine(outFolder, Dataset.TextFeatureFile), features.Text);
        NpyFile.Write(Path.Combine(outFolder, Dataset.MultimodalFeatureFile), features.Multimodal);
        NpyFile.Write(Path.Combine(outFolder, FactorsFile), features.Factors);
        AtomicFile.Write(Path.Combine(outFolder, Path.GetFileName(interPath)), stream =>
        {
            using var source = File.OpenRead(interPath);
            source.CopyTo(stream);
        });
        var manifest = features.Manifest with { SourceInter = Path.GetFullPath(interPath) };
        AtomicFile.WriteAllText(Path.Combine(outFolder, ManifestFile), JsonSerializer.Serialize(manifest, Json) + "\n");
        return manifest;
    }

    /// <summary>Reads a manifest.json written by <see cref="WriteFolder"/>.</summary>
    public static SynthesisManifest ReadManifest(string path) =>
        JsonSerializer.Deserialize<SynthesisManifest>(File.ReadAllText(path), Json)
        ?? throw new DataFormatException(path, null, "the manifest is empty (null)");

    // ------------------------------------------------------------------ factors

    /// <summary>
    /// The top <paramref name="k"/> eigenvectors of XᵀX (the right singular vectors of X) as unit columns of length
    /// I, with their singular values, by subspace iteration from a seeded Gaussian start. Columns are zero on items
    /// without pairs, exactly (XᵀX has zero rows there and every step takes linear combinations of columns).
    /// </summary>
    private static (double[][] Vectors, double[] Sigma, double MaxResidual, int Subspace) TopItemFactors(BinaryMatrix x, int k, ulong seed)
    {
        int l = Math.Min(k + Oversampling, x.ItemsWithPairs);
        var rng = new Rng(SubSeed(seed, RandomStream.SvdStart));
        var v = new double[l][];
        for (int c = 0; c < l; c++) v[c] = x.RandomOnItemsWithPairs(rng);
        Orthonormalise(v, x, rng);
        var userBuffer = new double[x.Users];
        for (int iteration = 0; iteration < PowerIterations; iteration++)
        {
            for (int c = 0; c < l; c++) v[c] = x.GramTimes(v[c], userBuffer);
            Orthonormalise(v, x, rng);
        }

        // Rayleigh–Ritz: the best k-dimensional eigen-approximation within span(v).
        var z = new double[l][];
        for (int c = 0; c < l; c++) z[c] = x.GramTimes(v[c], userBuffer);
        var h = new double[l, l];
        for (int a = 0; a < l; a++)
            for (int b = 0; b <= a; b++)
                h[a, b] = h[b, a] = 0.5 * (Dot(v[a], z[b]) + Dot(v[b], z[a]));
        var (values, rotation) = SymmetricEigen(h);

        var vectors = new double[k][];
        var sigma = new double[k];
        double maxResidual = 0, top = Math.Max(values[0], double.Epsilon);
        for (int j = 0; j < k; j++)
        {
            var f = new double[x.Items];
            var g = new double[x.Items];
            for (int c = 0; c < l; c++)
            {
                Axpy(rotation[c, j], v[c], f);
                Axpy(rotation[c, j], z[c], g);
            }
            // A singular vector's sign is arbitrary: make its largest entry (the first, on ties) positive.
            int at = 0;
            for (int i = 1; i < f.Length; i++)
                if (Math.Abs(f[i]) > Math.Abs(f[at])) at = i;
            if (f[at] < 0)
                for (int i = 0; i < f.Length; i++) (f[i], g[i]) = (-f[i], -g[i]);
            double lambda = Math.Max(values[j], 0), r2 = 0;
            for (int i = 0; i < f.Length; i++) r2 += (g[i] - lambda * f[i]) * (g[i] - lambda * f[i]);
            maxResidual = Math.Max(maxResidual, Math.Sqrt(r2) / top);
            vectors[j] = f;
            sigma[j] = Math.Sqrt(lambda);
        }
        return (vectors, sigma, maxResidual, l);
    }

    /// <summary>
    /// Modified Gram–Schmidt, twice over each column for accuracy. A column that vanishes (the matrix has lower rank
    /// than the subspace) is replaced by a fresh seeded random one on the items with pairs.
    /// </summary>
    private static void Orthonormalise(double[][] v, BinaryMatrix x, Rng rng)
    {
        for (int c = 0; c < v.Length; c++)
        {
            for (int attempt = 0; ; attempt++)
            {
                double before = Math.Sqrt(Dot(v[c], v[c]));
                for (int pass = 0; pass < 2; pass++)
                    for (int p = 0; p < c; p++)
                        Axpy(-Dot(v[p], v[c]), v[p], v[c]);
                double after = Math.Sqrt(Dot(v[c], v[c]));
                if (after > 1e-10 * before && after > 0)
                {
                    double inv = 1 / after;
                    for (int i = 0; i < v[c].Length; i++) v[c][i] *= inv;
                    break;
                }
                if (attempt == 10)
                    throw new InvalidOperationException("could not complete an orthonormal basis; the training matrix is too small for the ranks asked");
                v[c] = x.RandomOnItemsWithPairs(rng);
            }
        }
    }

    /// <summary>Eigenvalues (descending) and eigenvectors (columns) of a small symmetric matrix, by cyclic Jacobi rotations.</summary>
    private static (double[] Values, double[,] Vectors) SymmetricEigen(double[,] input)
    {
        int n = input.GetLength(0);
        var a = (double[,])input.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        double total = 0;
        foreach (double e in a) total += e * e;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) off += a[p, q] * a[p, q];
            if (off <= 1e-30 * total) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = theta >= 0 ? 1 / (theta + Math.Sqrt(theta * theta + 1)) : -1 / (-theta + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int r = 0; r < n; r++)
                    {
                        double arp = a[r, p], arq = a[r, q];
                        a[r, p] = c * arp - s * arq;
                        a[r, q] = s * arp + c * arq;
                    }
                    for (int r = 0; r < n; r++)
                    {
                        double apr = a[p, r], aqr = a[q, r];
                        a[p, r] = c * apr - s * aqr;
                        a[q, r] = s * apr + c * aqr;
                    }
                    a[p, q] = a[q, p] = 0;
                    for (int r = 0; r < n; r++)
                    {
                        double vrp = v[r, p], vrq = v[r, q];
                        v[r, p] = c * vrp - s * vrq;
                        v[r, q] = s * vrp + c * vrq;
                    }
                }
        }
        var order = Enumerable.Range(0, n).OrderByDescending(i => a[i, i]).ThenBy(i => i).ToArray();
        var values = order.Select(i => a[i, i]).ToArray();
        var vectors = new double[n, n];
        for (int j = 0; j < n; j++)
            for (int r = 0; r < n; r++) vectors[r, j] = v[r, order[j]];
        return (values, vectors);
    }

    // ------------------------------------------------------------------ features

    /// <summary>
    /// One modality: latent z_i = the item's <paramref name="columns"/> of the factors (generic first), signal
    /// z_i·M with M a fixed seeded (rank × width) map of N(0, 1/rank) entries, plus noise of standard deviation
    /// Noise × the signal's root-mean-square entry over items with training pairs. Items without pairs get noise only.
    /// Each item is computed alone, with its own noise stream, so rows can run in parallel and stay deterministic.
    /// </summary>
    private static (FeatureMatrix Features, ModalityReport Report) Modality(BinaryMatrix x, double[] factors, int k,
        int[] columns, int genericCount, int width, SynthesisOptions o, RandomStream mapStream, RandomStream noiseStream, string file)
    {
        int r = columns.Length, items = x.Items;
        double mapStd = 1 / Math.Sqrt(r);
        var mapRng = new Rng(SubSeed(o.Seed, mapStream));
        var map = new double[r * width];
        for (int e = 0; e < map.Length; e++) map[e] = mapStd * mapRng.Normal();

        // ‖z M‖² = z (M Mᵀ) zᵀ: the signal's size, known exactly before any row is computed.
        var gram = new double[r, r];
        for (int a = 0; a < r; a++)
            for (int b = 0; b <= a; b++)
                gram[a, b] = gram[b, a] = Dot(map.AsSpan(a * width, width), map.AsSpan(b * width, width));
        double signalSq = 0, genericSq = 0, uniqueSq = 0;
        var z = new double[r];
        for (int i = 0; i < items; i++)
        {
            if (!x.HasPairs(i)) continue;
            for (int c = 0; c < r; c++) z[c] = factors[i * k + columns[c]];
            signalSq += QuadraticForm(gram, z, 0, r);
            genericSq += QuadraticForm(gram, z, 0, genericCount);
            uniqueSq += QuadraticForm(gram, z, genericCount, r);
        }
        double noiseStd = o.Noise * Math.Sqrt(signalSq / ((double)x.ItemsWithPairs * width));

        var data = new float[(long)items * width];
        var noiseSq = new double[items];
        Parallel.For(0, items, () => new double[width], (i, _, row) =>
        {
            Array.Clear(row);
            if (x.HasPairs(i))
                for (int c = 0; c < r; c++)
                    Axpy(factors[i * k + columns[c]], map.AsSpan(c * width, width), row);
            var output = data.AsSpan(i * width, width);
            if (noiseStd > 0)
            {
                var noise = new Rng(SubSeed(o.Seed, noiseStream, (ulong)i));
                double sq = 0;
                for (int j = 0; j < width; j++)
                {
                    double e = noiseStd * noise.Normal();
                    sq += e * e;
                    output[j] = (float)(row[j] + e);
                }
                noiseSq[i] = sq;
            }
            else
                for (int j = 0; j < width; j++) output[j] = (float)row[j];
            return row;
        }, _ => { });

        double noiseTotal = 0;
        foreach (double s in noiseSq) noiseTotal += s;
        double signalNorm = Math.Sqrt(signalSq), noiseNorm = Math.Sqrt(noiseTotal);
        return (new FeatureMatrix(items, width, data), new ModalityReport(file, width, columns, mapStd, signalNorm,
            Math.Sqrt(genericSq), Math.Sqrt(uniqueSq), noiseStd, noiseNorm, signalNorm > 0 ? noiseNorm / signalNorm : 0));
    }

    /// <summary>z[from..to) · G[from..to, from..to] · z[from..to)ᵀ.</summary>
    private static double QuadraticForm(double[,] g, double[] z, int from, int to)
    {
        double sum = 0;
        for (int a = from; a < to; a++)
            for (int b = from; b < to; b++) sum += z[a] * g[a, b] * z[b];
        return sum;
    }

    private static string Describe(BinaryMatrix x, SynthesisOptions o, double[] sigma)
    {
        int g = o.GenericRank, u = o.UniqueRank;
        string Range(int from, int count) => count == 0 ? "none" : count == 1 ? $"factor {from + 1}" : $"factors {from + 1}–{from + count}";
        return
            $"Semi-synthetic item features (say \"semi-synthetic features\" wherever results on them are reported). " +
            $"Derived from the {x.Pairs} training pairs (x_label 0) only: the generator was given no valid or test pair. " +
            $"The planted item factors are the top {o.Factors} right singular vectors of the binary {x.Users} users × " +
            $"{x.Items} items training matrix (singular values {sigma[0]:0.###} down to {sigma[^1]:0.###}), each scaled " +
            $"to unit root-mean-square over the {x.ItemsWithPairs} items that have training pairs. " +
            $"Generic part: {Range(0, g)}, carried by both modalities. Image-unique: {Range(g, u)}, carried by the image " +
            $"features only. Text-unique: {Range(g + u, u)}, carried by the text features only (the fused features " +
            "carry every factor). " +
            $"image_feat.npy = [generic ‖ image-unique] · M_image ({g + u} × {o.ImageDim}) and text_feat.npy = " +
            $"[generic ‖ text-unique] · M_text ({g + u} × {o.TextDim}), each M a fixed Gaussian map with N(0, 1/{g + u}) " +
            $"entries; the fused multimodal mm_feat.npy = [generic ‖ image-unique ‖ text-unique] · M_mm ({g + 2 * u} × " +
            $"{o.MultimodalDim}, N(0, 1/{g + 2 * u}) entries). Maps are drawn from seed {o.Seed}; each file gets " +
            $"independent Gaussian noise whose standard deviation is {o.Noise} × " +
            $"the signal's root-mean-square entry. The {x.Items - x.ItemsWithPairs} items without training pairs carry " +
            $"no factor: their features are noise only. planted_factors.npy holds the factors (items × {o.Factors}: " +
            "generic, image-unique, text-unique).";
    }

    // ------------------------------------------------------------------ helpers

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        // Fixed association order (vector lanes, then the lanes in order, then the tail), so the same on every run.
        int n = a.Length, i = 0;
        var acc = Vector<double>.Zero;
        for (; i <= n - Vector<double>.Count; i += Vector<double>.Count)
            acc += new Vector<double>(a[i..]) * new Vector<double>(b[i..]);
        double sum = 0;
        for (int lane = 0; lane < Vector<double>.Count; lane++) sum += acc[lane];
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y += α·x, element by element (the same rounding as a scalar loop, whatever the vector width).</summary>
    private static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = x.Length, i = 0;
        var a = new Vector<double>(alpha);
        for (; i <= n - Vector<double>.Count; i += Vector<double>.Count)
            (new Vector<double>(y[i..]) + a * new Vector<double>(x[i..])).CopyTo(y[i..]);
        for (; i < n; i++) y[i] += alpha * x[i];
    }

    private static ulong SubSeed(ulong seed, RandomStream stream, ulong index = 0)
    {
        ulong h = Mix(seed + 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ ((ulong)stream * 0xD1B54A32D192ED03UL + 1));
        return Mix(h ^ (index * 0x8CB92BA72F3D8DD7UL + 2));
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The path with every symbolic link in it resolved, as far as the path exists.</summary>
    private static string RealPath(string path, int depth = 0)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.Exists && info.LinkTarget is not null && depth < 32 &&
                info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                current = RealPath(target.FullName, depth + 1);
        }
        return Path.TrimEndingDirectorySeparator(current);
    }

    /// <summary>The <c>shared</c> folder (one holding <c>data</c>), or <c>shared/data</c> path, that contains <paramref name="path"/>; else null.</summary>
    private static string? InsideSharedData(string path)
    {
        var parts = path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var root = Path.GetPathRoot(path)!;
        var current = root;
        for (int p = 0; p < parts.Length; p++)
        {
            current = Path.Combine(current, parts[p]);
            if (parts[p] != "shared") continue;
            if (p + 1 < parts.Length && parts[p + 1] == "data") return Path.Combine(current, "data");
            if (Directory.Exists(Path.Combine(current, "data"))) return current;
        }
        return null;
    }

    /// <summary>The binary training matrix, deduplicated, by user (CSR) and by item (CSC), both sorted.</summary>
    private sealed class BinaryMatrix
    {
        private readonly int[] userStart, userItems, itemStart, itemUsers;

        private BinaryMatrix(int users, int items, int[] userStart, int[] userItems, int[] itemStart, int[] itemUsers, string sha)
        {
            (Users, Items, this.userStart, this.userItems, this.itemStart, this.itemUsers, Sha256) =
                (users, items, userStart, userItems, itemStart, itemUsers, sha);
            for (int u = 0; u < users; u++)
                if (userStart[u + 1] > userStart[u]) UsersWithPairs++;
            for (int i = 0; i < items; i++)
                if (HasPairs(i)) ItemsWithPairs++;
        }

        public int Users { get; }
        public int Items { get; }
        public int Pairs => userItems.Length;
        public int UsersWithPairs { get; }
        public int ItemsWithPairs { get; }

        /// <summary>SHA-256 of the distinct pairs sorted by (user, item), each as two little-endian int32.</summary>
        public string Sha256 { get; }

        public bool HasPairs(int item) => itemStart[item + 1] > itemStart[item];

        public static BinaryMatrix FromPairs(int users, int items, InteractionSet pairs)
        {
            var start = new int[users + 1];
            foreach (int u in pairs.Users) start[u + 1]++;
            for (int u = 0; u < users; u++) start[u + 1] += start[u];
            var next = start[..^1];
            var all = new int[pairs.Count];
            for (int p = 0; p < pairs.Count; p++) all[next[pairs.Users[p]]++] = pairs.Items[p];

            var userStart = new int[users + 1];
            var kept = new List<int>(pairs.Count);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Span<byte> record = stackalloc byte[8];
            for (int u = 0; u < users; u++)
            {
                var group = all.AsSpan(start[u], start[u + 1] - start[u]);
                group.Sort();
                for (int j = 0; j < group.Length; j++)
                {
                    if (j > 0 && group[j] == group[j - 1]) continue;
                    kept.Add(group[j]);
                    BinaryPrimitives.WriteInt32LittleEndian(record, u);
                    BinaryPrimitives.WriteInt32LittleEndian(record[4..], group[j]);
                    hash.AppendData(record);
                }
                userStart[u + 1] = kept.Count;
            }
            var userItems = kept.ToArray();

            var itemStart = new int[items + 1];
            foreach (int i in userItems) itemStart[i + 1]++;
            for (int i = 0; i < items; i++) itemStart[i + 1] += itemStart[i];
            var fill = itemStart[..^1];
            var itemUsers = new int[userItems.Length];
            for (int u = 0; u < users; u++)
                for (int p = userStart[u]; p < userStart[u + 1]; p++) itemUsers[fill[userItems[p]]++] = u;
            return new BinaryMatrix(users, items, userStart, userItems, itemStart, itemUsers,
                Convert.ToHexStringLower(hash.GetHashAndReset()));
        }

        /// <summary>XᵀX·v, summing in index order (deterministic). <paramref name="y"/> is a scratch vector of length Users.</summary>
        public double[] GramTimes(double[] v, double[] y)
        {
            for (int u = 0; u < Users; u++)
            {
                double s = 0;
                for (int p = userStart[u]; p < userStart[u + 1]; p++) s += v[userItems[p]];
                y[u] = s;
            }
            var result = new double[Items];
            for (int i = 0; i < Items; i++)
            {
                double s = 0;
                for (int p = itemStart[i]; p < itemStart[i + 1]; p++) s += y[itemUsers[p]];
                result[i] = s;
            }
            return result;
        }

        /// <summary>Standard normal entries on the items with pairs, zero elsewhere.</summary>
        public double[] RandomOnItemsWithPairs(Rng rng)
        {
            var v = new double[Items];
            for (int i = 0; i < Items; i++)
                if (HasPairs(i)) v[i] = rng.Normal();
            return v;
        }
    }
}
