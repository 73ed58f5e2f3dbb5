using Engine.Cpu;
using Engine.Training.Data;
using Engine.Training.Graph;

namespace Engine.Training.Tests;

public class DegreeSensitivePruningTests
{
    private static readonly Backend B = CpuBackend.Shared;

    /// <summary>Distinct random pairs over users × items.</summary>
    private static (int[] Users, int[] Items) RandomPairs(int users, int items, int count, ulong seed)
    {
        var rng = new Rng(seed);
        var seen = new HashSet<(int, int)>();
        while (seen.Count < count) seen.Add((rng.NextInt(users), rng.NextInt(items)));
        var pairs = seen.ToArray();
        return (Array.ConvertAll(pairs, p => p.Item1), Array.ConvertAll(pairs, p => p.Item2));
    }

    [Theory]
    [InlineData(0.8, 23_710)] // MODELS.md §6: floor(118,551 × 0.2)
    [InlineData(0.9, 11_855)]
    public void A_draw_keeps_floor_of_E_times_one_minus_rho_pairs_as_2m_non_zeros(double ratio, int expected)
    {
        var (users, items) = RandomPairs(19_445, 7_050, 118_551, seed: 1);
        var pruning = new DegreeSensitivePruning(19_445, 7_050, users, items, ratio);
        Assert.Equal(expected, pruning.KeptPairs);
        using var graph = pruning.Draw(B, new Rng(2), DType.Float32);
        Assert.Equal(2 * expected, graph.NonZeros);
    }

    [Fact]
    public void Baby_keeps_23710_of_its_118551_training_pairs_per_epoch()
    {
        var baby = Dataset.Load(SharedData.FindOrSkip("baby"), loadFeatures: false);
        Assert.Equal(118_551, baby.Train.Count);
        var pruning = new DegreeSensitivePruning(baby.Users, baby.Items, baby.Train.Users, baby.Train.Items, 0.8);
        Assert.Equal(23_710, pruning.KeptPairs);
        using var graph = pruning.Draw(B, new Rng(999), DType.Float32);
        Assert.Equal(47_420, graph.NonZeros);
    }

    [Fact]
    public void The_pruned_graph_holds_distinct_kept_pairs_and_their_mirrors_normalised_over_the_kept_degrees()
    {
        const int users = 40, items = 30;
        var (pairUsers, pairItems) = RandomPairs(users, items, 300, seed: 3);
        var pruning = new DegreeSensitivePruning(users, items, pairUsers, pairItems, 0.7);
        var rng = new Rng(4);
        var state = rng.State;
        var kept = pruning.SamplePairs(rng);
        rng.State = state;
        using var graph = pruning.Draw(B, rng, DType.Float64);

        Assert.Equal(pruning.KeptPairs, kept.Distinct().Count());
        var degree = new int[users + items];
        foreach (var p in kept) { degree[pairUsers[p]]++; degree[users + pairItems[p]]++; }
        var dense = graph.ToDense();
        int n = users + items;
        foreach (var p in kept)
        {
            int u = pairUsers[p], i = users + pairItems[p];
            double expected = Math.Pow(degree[u] + 1e-7, -0.5) * Math.Pow(degree[i] + 1e-7, -0.5);
            Assert.Equal(expected, dense[u * n + i], 1e-15);
            Assert.Equal(expected, dense[i * n + u], 1e-15);
        }
        Assert.Equal(2 * kept.Length, dense.Count(v => v != 0));
    }

    [Fact]
    public void Sampling_weights_are_the_full_graphs_normalised_entries()
    {
        // Pairs (0,0), (0,1), (1,0): degrees u0 2, u1 1, i0 2, i1 1.
        var pruning = new DegreeSensitivePruning(2, 2, [0, 0, 1], [0, 1, 0], 0.5);
        double W(int du, int di) => 1 / Math.Sqrt((du + 1e-7) * (di + 1e-7));
        Assert.Equal([W(2, 2), W(2, 1), W(1, 2)], pruning.Weights);
    }

    [Fact]
    public void A_single_kept_pair_is_drawn_with_probability_proportional_to_its_weight()
    {
        // Ten pairs with degree products from 1 to 12; ρ 0.85 keeps int(10 × 0.15) = 1.
        int[] pairUsers = [0, 1, 1, 2, 2, 2, 3, 4, 4, 5];
        int[] pairItems = [0, 1, 2, 1, 3, 4, 3, 5, 3, 6];
        var pruning = new DegreeSensitivePruning(6, 7, pairUsers, pairItems, 0.85);
        Assert.Equal(1, pruning.KeptPairs);
        const int draws = 40_000;
        var counts = new int[pairUsers.Length];
        var rng = new Rng(5);
        for (int d = 0; d < draws; d++) counts[pruning.SamplePairs(rng)[0]]++;
        double total = pruning.Weights.Sum();
        for (int p = 0; p < counts.Length; p++)
        {
            double probability = pruning.Weights[p] / total;
            double sigma = Math.Sqrt(probability * (1 - probability) / draws);
            Assert.True(Math.Abs(counts[p] / (double)draws - probability) < 5 * sigma,
                $"pair {p}: drawn {counts[p] / (double)draws:0.0000}, expected {probability:0.0000} ± {sigma:0.0000}");
        }
    }

    [Fact]
    public void Pairs_between_low_degree_nodes_are_kept_more_often()
    {
        // A dense block (users 0–9 × items 0–9, all degrees 10) and 20 isolated pairs (degrees 1).
        var (pairUsers, pairItems) = (new List<int>(), new List<int>());
        for (int u = 0; u < 10; u++)
            for (int i = 0; i < 10; i++) { pairUsers.Add(u); pairItems.Add(i); }
        for (int k = 0; k < 20; k++) { pairUsers.Add(10 + k); pairItems.Add(10 + k); }
        var pruning = new DegreeSensitivePruning(30, 30, [.. pairUsers], [.. pairItems], 0.8);
        var keptCount = new int[pairUsers.Count];
        var rng = new Rng(6);
        const int draws = 2_000;
        for (int d = 0; d < draws; d++)
            foreach (var p in pruning.SamplePairs(rng)) keptCount[p]++;
        double blockRate = keptCount[..100].Average() / draws;
        double leafRate = keptCount[100..].Average() / draws;
        double uniformRate = pruning.KeptPairs / (double)pairUsers.Count;
        Assert.True(leafRate > 2 * uniformRate && blockRate < uniformRate,
            $"keep rate of degree-1 pairs {leafRate:0.000}, of degree-10 pairs {blockRate:0.000}, uniform {uniformRate:0.000}");
    }

    [Fact]
    public void The_same_generator_state_draws_the_same_graph_and_the_next_draw_another()
    {
        var (pairUsers, pairItems) = RandomPairs(50, 40, 400, seed: 7);
        var pruning = new DegreeSensitivePruning(50, 40, pairUsers, pairItems, 0.8);
        var (a, b) = (new Rng(8), new Rng(8));
        var first = pruning.SamplePairs(a);
        Assert.Equal(first, pruning.SamplePairs(b));
        Assert.NotEqual(first.Order(), pruning.SamplePairs(a).Order());
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void A_pruned_share_outside_0_to_1_is_refused_in_one_line(double ratio)
    {
        var e = Assert.Throws<ArgumentException>(() => new DegreeSensitivePruning(2, 2, [0], [0], ratio));
        Assert.Equal($"the pruned share of edges ρ must be in [0, 1), got {ratio}", e.Message);
    }
}
