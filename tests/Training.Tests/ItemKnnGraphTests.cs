using Engine.Cpu;
using Engine.Training.Data;
using Engine.Training.Graph;

namespace Engine.Training.Tests;

public class ItemKnnGraphTests : IDisposable
{
    private readonly string cache = Path.Combine(Path.GetTempPath(), $"sea-knn-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
    }

    // Four items in the plane: 0 and 1 point nearly the same way, 2 and 3 nearly the opposite way of each other's
    // neighbours. With k = 2 every item keeps itself and its closest direction.
    private static readonly FeatureMatrix Image = new(4, 2, [1, 0, 2, 0.2f, 0, 1, -0.1f, 3]);
    private static readonly FeatureMatrix Text = new(4, 2, [1, 0, 0, 1, 1, 0.1f, 0.1f, 1]);

    [Fact]
    public void Each_row_keeps_itself_and_its_nearest_items_at_one_over_k()
    {
        var s = ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 1.0)], 2, DType.Float64, null, out _);
        var dense = s.ToDense();
        double[] expected =
        [
            0.5, 0.5, 0, 0,
            0.5, 0.5, 0, 0,
            0, 0, 0.5, 0.5,
            0, 0, 0.5, 0.5,
        ];
        Assert.Equal(expected, dense);
    }

    [Fact]
    public void Modalities_are_weighted_and_shared_entries_add_up()
    {
        var s = ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 0.1), (Text, 0.9)], 2, DType.Float64, null, out _);
        var dense = s.ToDense();
        // Text neighbours: 0↔2 and 1↔3. Diagonal entries come from both modalities: 0.1/2 + 0.9/2 = 0.5.
        Assert.Equal(0.5, dense[0 * 4 + 0], 12);
        Assert.Equal(0.05, dense[0 * 4 + 1], 12);
        Assert.Equal(0.45, dense[0 * 4 + 2], 12);
        Assert.Equal(0.0, dense[0 * 4 + 3], 12);
        Assert.All(Enumerable.Range(0, 4), r => Assert.Equal(1.0, Enumerable.Range(0, 4).Sum(c => dense[r * 4 + c]), 12));
    }

    [Fact]
    public void The_cache_is_used_when_inputs_match_and_rebuilt_when_they_change()
    {
        var first = ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 0.1), (Text, 0.9)], 2, DType.Float64, cache, out bool cached1);
        var second = ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 0.1), (Text, 0.9)], 2, DType.Float64, cache, out bool cached2);
        Assert.False(cached1);
        Assert.True(cached2);
        Assert.Equal(first.ToDense(), second.ToDense());

        var changed = new FeatureMatrix(4, 2, [1, 0, 0, 1, 0, 1, 1, 0.1f]);
        var third = ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 0.1), (changed, 0.9)], 2, DType.Float64, cache, out bool cached3);
        Assert.False(cached3);
        Assert.NotEqual(first.ToDense(), third.ToDense());
        ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 0.2), (Text, 0.8)], 2, DType.Float64, cache, out bool cached4);
        Assert.False(cached4); // weights are part of the key
    }

    [Fact]
    public void A_corrupt_cache_file_is_rebuilt_not_trusted()
    {
        var good = ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 1.0)], 2, DType.Float64, cache, out _);
        foreach (var file in Directory.GetFiles(cache)) File.WriteAllBytes(file, [1, 2, 3]);
        var again = ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 1.0)], 2, DType.Float64, cache, out bool fromCache);
        Assert.False(fromCache);
        Assert.Equal(good.ToDense(), again.ToDense());
    }

    /// <summary>
    /// MODELS.md §6's S_cos facts on random features (few items, so some kept cosines are negative): k entries per row, the diagonal
    /// 1/deg_i, every entry c_ij / sqrt(deg_i deg_j) with deg the row sums of the kept cosines (recomputed here in
    /// double from the features), and not symmetric.
    /// </summary>
    [Fact]
    public void Cosine_graph_keeps_k_cosines_per_row_normalised_by_row_degrees()
    {
        const int items = 15, width = 8, k = 10;
        var rng = new Rng(5);
        var features = new FeatureMatrix(items, width, Array.ConvertAll(rng.NormalArray(items * width, 0, 1), v => (float)v));
        var s = ItemKnnGraph.BuildCosine(CpuBackend.Shared, features, k, DType.Float64, null, out _);

        double Cosine(int i, int j)
        {
            double dot = 0, ni = 0, nj = 0;
            for (int c = 0; c < width; c++)
            {
                dot += (double)features[i, c] * features[j, c];
                ni += (double)features[i, c] * features[i, c];
                nj += (double)features[j, c] * features[j, c];
            }
            return dot / Math.Sqrt(ni * nj);
        }
        var kept = Enumerable.Range(0, items).Select(i => Enumerable.Range(0, items).OrderByDescending(j => Cosine(i, j)).Take(k).ToArray()).ToArray();
        var degree = kept.Select((row, i) => row.Sum(j => Cosine(i, j))).ToArray();
        var dense = s.ToDense();
        for (int i = 0; i < items; i++)
        {
            Assert.Equal(k, s.HostRowPtr[i + 1] - s.HostRowPtr[i]);
            Assert.Equal(kept[i].Order(), Enumerable.Range(s.HostRowPtr[i], k).Select(e => s.HostColIdx[e]));
            Assert.Equal(1 / degree[i], dense[i * items + i], 1e-6);
            foreach (int j in kept[i])
                Assert.Equal(Cosine(i, j), dense[i * items + j] * Math.Sqrt(degree[i] * degree[j]), 1e-6);
        }
        Assert.Contains(Enumerable.Range(0, items * items), e => Math.Abs(dense[e] - dense[e % items * items + e / items]) > 1e-3);
        Assert.Contains(dense, v => v < 0);
    }

    [Fact]
    public void The_cosine_graph_has_its_own_cache_entries_beside_the_binary_graph()
    {
        var binary = ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 1.0)], 2, DType.Float64, cache, out _);
        var cosine = ItemKnnGraph.BuildCosine(CpuBackend.Shared, Image, 2, DType.Float64, cache, out bool cached1);
        var again = ItemKnnGraph.BuildCosine(CpuBackend.Shared, Image, 2, DType.Float64, cache, out bool cached2);
        Assert.False(cached1);
        Assert.True(cached2);
        Assert.Equal(cosine.ToDense(), again.ToDense());
        Assert.NotEqual(binary.ToDense(), cosine.ToDense());
        Assert.Equal(binary.ToDense(), ItemKnnGraph.Build(CpuBackend.Shared, [(Image, 1.0)], 2, DType.Float64, cache, out bool binaryCached).ToDense());
        Assert.True(binaryCached);
        Assert.Equal(2, Directory.GetFiles(cache).Length);
    }
}
