using System.Security.Cryptography;
using Engine.IO;
using Engine.Training.Data;
using Engine.Training.Evaluation;

namespace Engine.Training.Graph;

/// <summary>
/// The item–item graph S of SEA (and FREEDOM/DRAGON before it): per modality, the k most cosine-similar items of
/// every item (itself included), each kept entry worth 1/k (= D^-1/2 K D^-1/2 of the 0/1 kNN matrix, since every row
/// has k entries); S = Σ_m weight_m · S_m, entries kept by several modalities adding up. Similarities are computed
/// in blocks of rows, never as a whole I × I matrix. The result is cached on disk, keyed by a hash of everything it
/// depends on, and rebuilt whenever any of it changes.
/// </summary>
public static class ItemKnnGraph
{
    private const int RowsPerBlock = 512;
    private const uint CacheMagic = 0x4E4E4B53; // "SKNN"

    /// <summary>The default cache folder: $SEA_CACHE, else ~/.cache/sea.</summary>
    public static string DefaultCacheFolder => Engine.IO.CacheFolder.Root;

    /// <summary>
    /// Builds S from the given modalities, or reads it from <paramref name="cacheFolder"/> when an identical build is
    /// cached there (null: no cache). <paramref name="fromCache"/> says which happened.
    /// </summary>
    public static CsrMatrix Build(Backend backend, IReadOnlyList<(FeatureMatrix Features, double Weight)> modalities, int k,
        DType dtype, string? cacheFolder, out bool fromCache)
    {
        if (modalities.Count == 0) throw new ArgumentException("at least one modality is needed");
        int items = modalities[0].Features.Rows;
        if (modalities.Any(m => m.Features.Rows != items))
            throw new ArgumentException($"modalities disagree on the item count: {string.Join(", ", modalities.Select(m => m.Features.Rows))}");
        if (k < 1 || k > items) throw new ArgumentOutOfRangeException(nameof(k), k, $"must be in 1..{items}");

        string? cachePath = cacheFolder is null ? null : Path.Combine(cacheFolder, $"item-knn-{CacheKey(modalities, k)}.bin");
        if (cachePath is not null && TryRead(cachePath, items, out var cached))
        {
            fromCache = true;
            return CsrMatrix.FromCoo(backend, items, items, cached.Rows, cached.Cols, cached.Values, dtype);
        }

        var (rows, cols, values) = (new List<int>(), new List<int>(), new List<double>());
        foreach (var (features, weight) in modalities)
        {
            var neighbours = Neighbours(features, k);
            for (int i = 0; i < items; i++)
                for (int j = 0; j < k; j++)
                {
                    rows.Add(i);
                    cols.Add(neighbours[i, j]);
                    values.Add(weight / k);
                }
        }
        var graph = CsrMatrix.FromCoo(backend, items, items, rows.ToArray(), cols.ToArray(), values.ToArray(), dtype);
        if (cachePath is not null) Write(cachePath, graph);
        fromCache = false;
        return graph;
    }

    /// <summary>For every item, the k items of highest cosine similarity (itself included), best first.</summary>
    public static int[,] Neighbours(FeatureMatrix features, int k)
    {
        var cpu = Cpu.CpuBackend.Shared;
        int items = features.Rows;
        using var raw = cpu.FromArray(features.Data, items, features.Cols);
        using var unit = cpu.Allocate(items, features.Cols, DType.Float32);
        cpu.RowL2Normalize(raw, unit);
        var result = new int[items, k];
        for (int start = 0; start < items; start += RowsPerBlock)
        {
            int count = Math.Min(RowsPerBlock, items - start);
            using var block = cpu.Allocate(count, features.Cols, DType.Float32);
            using var similarity = cpu.Allocate(count, items, DType.Float32);
            cpu.CopyBlock(unit, start, 0, block, 0, 0, count, features.Cols, accumulate: false);
            cpu.Gemm(false, true, 1, block, unit, 0, similarity);
            var top = TopK.SelectRows(similarity.ToArray<float>(), count, items, null, k);
            for (int r = 0; r < count; r++)
                for (int j = 0; j < k; j++) result[start + r, j] = top[r, j];
        }
        return result;
    }

    private static string CacheKey(IReadOnlyList<(FeatureMatrix Features, double Weight)> modalities, int k)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(k));
        foreach (var (features, weight) in modalities)
        {
            hash.AppendData(BitConverter.GetBytes(weight));
            hash.AppendData(BitConverter.GetBytes(features.Rows));
            hash.AppendData(BitConverter.GetBytes(features.Cols));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(features.Data.AsSpan()));
        }
        return Convert.ToHexString(hash.GetHashAndReset())[..24].ToLowerInvariant();
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
