using System.Security.Cryptography;
using Engine.IO;
using Engine.Training.Data;
using Engine.Training.Evaluation;

namespace Engine.Training.Graph;

/// <summary>
/// The item–item kNN graphs of MODELS.md §0.2, built from raw features: for every item, the k items of highest
/// cosine similarity (itself included), computed in blocks of rows, never as a whole I × I matrix. Two flavours:
/// <see cref="Build"/>, the binary graph of SEA and FREEDOM (G3), and <see cref="BuildCosine"/>, the weighted graph
/// of LATTICE, MGCN and AlignRec (G4). Either is cached on disk, keyed by a hash of everything it depends on, and
/// rebuilt whenever any of it changes.
/// </summary>
public static class ItemKnnGraph
{
    private const int RowsPerBlock = 512;
    private const uint CacheMagic = 0x4E4E4B53; // "SKNN"

    /// <summary>The default cache folder: $SEA_CACHE, else ~/.cache/sea.</summary>
    public static string DefaultCacheFolder => Engine.IO.CacheFolder.Root;

    /// <summary>
    /// S of SEA (and FREEDOM/DRAGON before it), G3: per modality, each item's k nearest items, each kept entry worth
    /// 1/k (= D^-1/2 K D^-1/2 of the 0/1 kNN matrix, since every row has k entries); S = Σ_m weight_m · S_m, entries
    /// kept by several modalities adding up. Read from <paramref name="cacheFolder"/> when an identical build is
    /// cached there (null: no cache); <paramref name="fromCache"/> says which happened.
    /// </summary>
    public static CsrMatrix Build(Backend backend, IReadOnlyList<(FeatureMatrix Features, double Weight)> modalities, int k,
        DType dtype, string? cacheFolder, out bool fromCache)
    {
        if (modalities.Count == 0) throw new ArgumentException("at least one modality is needed");
        int items = modalities[0].Features.Rows;
        if (modalities.Any(m => m.Features.Rows != items))
            throw new ArgumentException($"modalities disagree on the item count: {string.Join(", ", modalities.Select(m => m.Features.Rows))}");
        CheckK(k, items);
        return Cached(backend, items, dtype, CachePath(cacheFolder, null, modalities, k), () =>
        {
            var (rows, cols, values) = (new List<int>(), new List<int>(), new List<double>());
            foreach (var (features, weight) in modalities)
            {
                var (neighbours, _) = Neighbours(features, k);
                for (int i = 0; i < items; i++)
                    for (int j = 0; j < k; j++)
                    {
                        rows.Add(i);
                        cols.Add(neighbours[i, j]);
                        values.Add(weight / k);
                    }
            }
            return (rows.ToArray(), cols.ToArray(), values.ToArray());
        }, out fromCache);
    }

    /// <summary>
    /// S_cos of LATTICE, MGCN and AlignRec, G4: each item's k nearest items with their cosine c_ij as the value,
    /// normalised as c_ij / sqrt(deg_i · deg_j) where deg is the sum of a row's kept cosines. deg_j is item j's own
    /// row sum (not a column sum), so S_cos is not symmetric in general. A row sum ≤ 0 gives its entries 0: AlignRec
    /// zeroes the infinity of a zero sum (an all-zero feature row); a negative sum, which needs the kept cosines to
    /// be mostly negative (a handful of items), would be NaN there.
    /// </summary>
    public static CsrMatrix BuildCosine(Backend backend, FeatureMatrix features, int k, DType dtype, string? cacheFolder, out bool fromCache)
    {
        int items = features.Rows;
        CheckK(k, items);
        return Cached(backend, items, dtype, CachePath(cacheFolder, "cosine", [(features, 1.0)], k), () =>
        {
            var (neighbours, cosines) = Neighbours(features, k);
            var inverseSqrtDegree = new double[items];
            for (int i = 0; i < items; i++)
            {
                double degree = 0;
                for (int j = 0; j < k; j++) degree += cosines[i, j];
                inverseSqrtDegree[i] = degree > 0 ? 1 / Math.Sqrt(degree) : 0;
            }
            var (rows, cols, values) = (new int[items * k], new int[items * k], new double[items * k]);
            for (int i = 0; i < items; i++)
                for (int j = 0; j < k; j++)
                {
                    int e = i * k + j, n = neighbours[i, j];
                    (rows[e], cols[e]) = (i, n);
                    values[e] = cosines[i, j] * inverseSqrtDegree[i] * inverseSqrtDegree[n];
                }
            return (rows, cols, values);
        }, out fromCache);
    }

    /// <summary>
    /// For every item, the k items of highest cosine similarity (itself included), best first, and those cosines
    /// (of the L2-normalised rows, in float32).
    /// </summary>
    public static (int[,] Items, float[,] Cosines) Neighbours(FeatureMatrix features, int k)
    {
        var cpu = Cpu.CpuBackend.Shared;
        int items = features.Rows;
        using var raw = cpu.FromArray(features.Data, items, features.Cols);
        using var unit = cpu.Allocate(items, features.Cols, DType.Float32);
        cpu.RowL2Normalize(raw, unit);
        var result = new int[items, k];
        var cosines = new float[items, k];
        for (int start = 0; start < items; start += RowsPerBlock)
        {
            int count = Math.Min(RowsPerBlock, items - start);
            using var block = cpu.Allocate(count, features.Cols, DType.Float32);
            using var similarity = cpu.Allocate(count, items, DType.Float32);
            cpu.CopyBlock(unit, start, 0, block, 0, 0, count, features.Cols, accumulate: false);
            cpu.Gemm(false, true, 1, block, unit, 0, similarity);
            var values = similarity.ToArray<float>();
            var top = TopK.SelectRows(values, count, items, null, k);
            for (int r = 0; r < count; r++)
                for (int j = 0; j < k; j++)
                {
                    result[start + r, j] = top[r, j];
                    cosines[start + r, j] = values[r * items + top[r, j]];
                }
        }
        return (result, cosines);
    }

    private static void CheckK(int k, int items)
    {
        if (k < 1 || k > items) throw new ArgumentOutOfRangeException(nameof(k), k, $"must be in 1..{items}");
    }

    /// <summary>The graph cached at <paramref name="cachePath"/> if there is a valid one, else <paramref name="build"/>'s entries (then cached).</summary>
    private static CsrMatrix Cached(Backend backend, int items, DType dtype, string? cachePath,
        Func<(int[] Rows, int[] Cols, double[] Values)> build, out bool fromCache)
    {
        (int[] Rows, int[] Cols, double[] Values) entries = default;
        fromCache = cachePath is not null && TryRead(cachePath, items, out entries);
        if (!fromCache) entries = build();
        var graph = CsrMatrix.FromCoo(backend, items, items, entries.Rows, entries.Cols, entries.Values, dtype);
        if (cachePath is not null && !fromCache) Write(cachePath, graph);
        return graph;
    }

    /// <summary>
    /// item-knn-[flavour-]HASH.bin in <paramref name="folder"/> (null: no cache), HASH over the flavour, k and every
    /// modality; the binary graph has no flavour, so its files keep the names they had before there were two.
    /// </summary>
    private static string? CachePath(string? folder, string? flavour, IReadOnlyList<(FeatureMatrix Features, double Weight)> modalities, int k)
    {
        if (folder is null) return null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (flavour is not null) hash.AppendData(System.Text.Encoding.UTF8.GetBytes(flavour));
        hash.AppendData(BitConverter.GetBytes(k));
        foreach (var (features, weight) in modalities)
        {
            hash.AppendData(BitConverter.GetBytes(weight));
            hash.AppendData(BitConverter.GetBytes(features.Rows));
            hash.AppendData(BitConverter.GetBytes(features.Cols));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(features.Data.AsSpan()));
        }
        var key = Convert.ToHexString(hash.GetHashAndReset())[..24].ToLowerInvariant();
        return Path.Combine(folder, flavour is null ? $"item-knn-{key}.bin" : $"item-knn-{flavour}-{key}.bin");
    }

    private static void Write(string path, CsrMatrix graph) =>
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            w.Write(CacheMagic);
            w.Write(graph.Rows);
            w.Write(graph.NonZeros);
            for (int r = 0; r < graph.Rows; r++)
                for (int e = graph.HostRowPtr[r]; e < graph.HostRowPtr[r + 1]; e++)
                {
                    w.Write(r);
                    w.Write(graph.HostColIdx[e]);
                    w.Write(graph.HostValues[e]);
                }
        });

    /// <summary>Reads a cached graph; a missing, truncated or foreign file is simply not used (and will be rewritten).</summary>
    private static bool TryRead(string path, int items, out (int[] Rows, int[] Cols, double[] Values) entries)
    {
        entries = default;
        if (!File.Exists(path)) return false;
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (r.ReadUInt32() != CacheMagic || r.ReadInt32() != items) return false;
            int count = r.ReadInt32();
            if (count < 0 || r.BaseStream.Length != 12 + 16L * count) return false;
            var (rows, cols, values) = (new int[count], new int[count], new double[count]);
            for (int e = 0; e < count; e++)
            {
                rows[e] = r.ReadInt32();
                cols[e] = r.ReadInt32();
                values[e] = r.ReadDouble();
                if ((uint)rows[e] >= (uint)items || (uint)cols[e] >= (uint)items) return false;
            }
            entries = (rows, cols, values);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
