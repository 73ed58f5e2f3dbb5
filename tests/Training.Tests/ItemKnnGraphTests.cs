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
}
