using Engine.Training.Evaluation;

namespace Engine.Training.Tests;

public class RankingMetricsTests
{
    private const double Tol = 1e-12;
    private static double D(int rank) => 1 / Math.Log2(rank + 1);

    /// <summary>Items 100, 101, … ranked 1, 2, …, with −1 past <paramref name="length"/>.</summary>
    private static int[] Ranked(int length, int k = 10) =>
        Enumerable.Range(0, k).Select(i => i < length ? 100 + i : -1).ToArray();

    /// <summary>One user's metrics, by adding that user alone.</summary>
    private static IReadOnlyDictionary<string, double> One(int[] ranked, int[] truth, params int[] ks)
    {
        var m = new RankingMetrics(ks);
        m.Add(ranked, truth.ToHashSet());
        return m.Means();
    }

    private static void Expect(IReadOnlyDictionary<string, double> means, string key, double expected) =>
        Assert.True(Math.Abs(means[key] - expected) <= Tol, $"{key}: expected {expected:R}, got {means[key]:R}");

    // User A: |T| = 4, hits at ranks 1 and 3 (items 100 and 102; 900 and 901 are not ranked).
    private static readonly int[] TruthA = [100, 102, 900, 901];
    // User B: |T| = 2 < K, hits at ranks 2 and 7.
    private static readonly int[] TruthB = [101, 106];
    // User C: |T| = 8 > K = 5, hits at ranks 1..5 and nothing after.
    private static readonly int[] TruthC = [100, 101, 102, 103, 104, 900, 901, 902];
    // User D: no hits, and only 3 items ranked at all.
    private static readonly int[] TruthD = [500];

    /// <summary>
    /// |T| = 4, hits at ranks 1 and 3, K = 5:
    /// recall = 2/4 = 0.5; DCG = 1/log2(2) + 1/log2(4) = 1.5;
    /// IDCG = Σ_{r=1}^{min(4,5)=4} 1/log2(r+1) = 1 + 0.6309297535714575 + 0.5 + 0.43067655807339306 = 2.5616063116448506;
    /// NDCG = 1.5/2.5616063116448506 = 0.5855700749881525; precision = 2/5 = 0.4;
    /// MAP = (1/1 + 2/3)/min(4,5) = 0.41666…
    /// </summary>
    [Fact]
    public void Hits_at_ranks_one_and_three_of_five_with_four_held_out()
    {
        var m = One(Ranked(10), TruthA, 5);
        Expect(m, "recall@5", 0.5);
        Expect(m, "ndcg@5", 0.5855700749881525);
        Expect(m, "ndcg@5", 1.5 / (D(1) + D(2) + D(3) + D(4)));
        Expect(m, "precision@5", 0.4);
        Expect(m, "map@5", (1 + 2.0 / 3) / 4);
        Assert.Equal(["recall@5", "ndcg@5", "precision@5", "map@5"], m.Keys);
    }

    /// <summary>
    /// |T| = 2 (fewer than K), hits at ranks 2 and 7.
    /// K = 10: recall = 2/2 = 1; DCG = 1/log2(3) + 1/log2(8) = 0.6309297535714575 + 1/3 = 0.9642630869047908;
    ///   IDCG over min(2,10) = 2 ranks = 1 + 0.6309297535714575 = 1.6309297535714575; NDCG = 0.5912352048230277;
    ///   precision = 2/10 = 0.2; MAP = (1/2 + 2/7)/min(2,10) = 0.39285714285714285.
    /// K = 5: only rank 2 counts: recall = 0.5; NDCG = 0.6309297535714575/1.6309297535714575 = 0.38685280723454163;
    ///   precision = 1/5 = 0.2; MAP = (1/2)/2 = 0.25.
    /// </summary>
    [Fact]
    public void Fewer_held_out_items_than_k_cap_the_ideal_dcg_and_map_denominators()
    {
        var m = One(Ranked(10), TruthB, 5, 10);
        Expect(m, "recall@10", 1);
        Expect(m, "ndcg@10", 0.5912352048230277);
        Expect(m, "precision@10", 0.2);
        Expect(m, "map@10", 0.39285714285714285);
        Expect(m, "recall@5", 0.5);
        Expect(m, "ndcg@5", 0.38685280723454163);
        Expect(m, "precision@5", 0.2);
        Expect(m, "map@5", 0.25);
    }

    /// <summary>
    /// |T| = 8 (more than K = 5), hits at ranks 1..5:
    /// K = 5: recall = 5/8 = 0.625 (the denominator is |T|, not min(|T|, K)); NDCG = 1 (IDCG over min(8,5) = 5 ranks);
    ///   precision = 1; MAP = (1/1 + 2/2 + … + 5/5)/5 = 1.
    /// K = 10: recall = 0.625; NDCG = Σ_{r≤5} 1/log2(r+1) / Σ_{r≤8} 1/log2(r+1) = 2.9485…/3.9534… = 0.7457912185292983;
    ///   precision = 5/10 = 0.5; MAP = 5/min(8,10) = 0.625.
    /// </summary>
    [Fact]
    public void More_held_out_items_than_k_leave_recall_uncapped()
    {
        var m = One(Ranked(10), TruthC, 5, 10);
        Expect(m, "recall@5", 0.625);
        Expect(m, "ndcg@5", 1);
        Expect(m, "precision@5", 1);
        Expect(m, "map@5", 1);
        Expect(m, "recall@10", 0.625);
        Expect(m, "ndcg@10", 0.7457912185292983);
        Expect(m, "precision@10", 0.5);
        Expect(m, "map@10", 0.625);
    }

    [Fact]
    public void A_user_without_hits_scores_zero_everywhere()
    {
        var m = One(Ranked(3), TruthD, 5, 10);
        Assert.Equal(8, m.Count);
        Assert.All(m.Values, v => Assert.Equal(0.0, v));
    }

    /// <summary>
    /// Scores 0.5, 0.9, 0.5, 0.9, 0.1, 0.9 with item 1 (a training item) excluded rank 3, 5, 0, 2, 4: the ties at 0.9
    /// and at 0.5 go to the lower index. With T = {5} the hit is at rank 2:
    /// recall@1 = 0, recall@3 = 1, NDCG@3 = (1/log2 3)/1 = 0.6309297535714575, precision@3 = 1/3, MAP@3 = (1/2)/1 = 0.5.
    /// </summary>
    [Fact]
    public void Tied_scores_rank_deterministically()
    {
        var scores = new float[] { 0.5f, 0.9f, 0.5f, 0.9f, 0.1f, 0.9f };
        for (int repeat = 0; repeat < 3; repeat++)
        {
            var top = new int[3];
            TopK.Select(scores, [1], 3, top);
            Assert.Equal([3, 5, 0], top);
            var m = One(top, [5], 1, 3);
            Expect(m, "recall@1", 0);
            Expect(m, "recall@3", 1);
            Expect(m, "ndcg@3", 0.6309297535714575);
            Expect(m, "precision@3", 1.0 / 3);
            Expect(m, "map@3", 0.5);
        }
    }

    /// <summary>
    /// The four users A–D above, K = 5: the means are the per-user values summed and divided by 4:
    /// recall = (0.5 + 0.5 + 0.625 + 0)/4 = 0.40625; NDCG = (0.5855700749881525 + 0.38685280723454163 + 1 + 0)/4;
    /// precision = (0.4 + 0.2 + 1 + 0)/4 = 0.4; MAP = (5/12 + 0.25 + 1 + 0)/4 = 0.41666….
    /// </summary>
    [Fact]
    public void Means_average_over_users()
    {
        var m = new RankingMetrics([10, 5]);
        m.Add(Ranked(10), TruthA.ToHashSet());
        m.Add(Ranked(10), TruthB);                // the sorted-array overload
        m.Add(Ranked(10), TruthC.ToHashSet());
        m.Add(Ranked(3), TruthD);
        Assert.Equal(4, m.Users);
        Assert.Equal([5, 10], m.Ks);
        var means = m.Means();
        Expect(means, "recall@5", 0.40625);
        Expect(means, "ndcg@5", (0.5855700749881525 + 0.38685280723454163 + 1) / 4);
        Expect(means, "precision@5", 0.4);
        Expect(means, "map@5", (5.0 / 12 + 0.25 + 1) / 4);
        Expect(means, "recall@10", (0.5 + 1 + 0.625) / 4);
        Expect(means, "map@10", (5.0 / 12 + 0.39285714285714285 + 0.625) / 4);
    }

    [Fact]
    public void Set_and_sorted_array_truths_agree()
    {
        foreach (var truth in new[] { TruthA, TruthB, TruthC, TruthD })
        {
            var fromSet = new RankingMetrics([1, 5, 10]);
            var fromArray = new RankingMetrics([1, 5, 10]);
            fromSet.Add(Ranked(10), truth.ToHashSet());
            fromArray.Add(Ranked(10), truth);
            Assert.Equal(fromSet.Means(), fromArray.Means());
        }
    }

    [Fact]
    public void Appending_blocks_in_order_equals_adding_every_user_in_turn()
    {
        var rng = new Random(3);
        var users = Enumerable.Range(0, 300).Select(_ =>
        {
            var ranked = Enumerable.Range(0, 60).OrderBy(_ => rng.Next()).Take(20).ToArray();
            var truth = Enumerable.Range(0, 60).Where(_ => rng.NextDouble() < 0.2).Append(59).Distinct().ToArray();
            return (ranked, truth);
        }).ToArray();

        var all = new RankingMetrics([5, 20]);
        foreach (var (ranked, truth) in users) all.Add(ranked, truth);
        var blocks = users.Chunk(70).Select(block =>
        {
            var m = new RankingMetrics([20, 5]);
            foreach (var (ranked, truth) in block) m.Add(ranked, truth);
            return m;
        }).ToArray();
        var merged = blocks[0];
        foreach (var block in blocks.Skip(1)) merged.Append(block);

        Assert.Equal(all.Users, merged.Users);
        Assert.Equal(all.Means(), merged.Means()); // bit for bit
        Assert.Throws<ArgumentException>(() => merged.Append(new RankingMetrics([5, 10])));
    }

    [Fact]
    public void Bad_input_is_rejected()
    {
        var m = new RankingMetrics([5]);
        Assert.Throws<ArgumentException>(() => m.Add(Ranked(10), new HashSet<int>()));
        Assert.Throws<ArgumentException>(() => m.Add(Ranked(10), Array.Empty<int>()));
        Assert.Throws<ArgumentException>(() => m.Add(Ranked(10, k: 4), [100]));          // fewer than max K ranked
        Assert.Throws<ArgumentException>(() => m.Add([100, 101, 100, -1, -1], [100]));   // an item ranked twice
        Assert.Throws<ArgumentException>(() => m.Add([100, 101, -2, -1, -1], [100]));    // not an item, not −1
        Assert.Throws<ArgumentException>(() => m.Add(Ranked(10), [102, 101]));           // truth not ascending
        Assert.Equal(0, m.Users);
        Assert.Throws<InvalidOperationException>(() => m.Means());
        Assert.Throws<ArgumentException>(() => new RankingMetrics([]));
        Assert.Throws<ArgumentException>(() => new RankingMetrics([0, 5]));
        Assert.Throws<ArgumentException>(() => new RankingMetrics([5, 5]));
    }

    /// <summary>
    /// A random full-ranking problem scored two ways: TopK and RankingMetrics, against a full sort and the EVAL.md
    /// formulas written out plainly here. Scores are rounded to force ties; the reference breaks them by lower index.
    /// </summary>
    [Fact]
    public void Random_problem_matches_a_straightforward_implementation()
    {
        const int users = 250, items = 400;
        int[] ks = [5, 10, 20, 50];
        var rng = new Random(20240611);
        var scores = new float[users * items];
        for (int i = 0; i < scores.Length; i++) scores[i] = MathF.Round((float)rng.NextDouble() * 50) / 50;
        var train = new int[users][];
        var truth = new int[users][];
        for (int u = 0; u < users; u++)
        {
            var shuffled = Enumerable.Range(0, items).OrderBy(_ => rng.Next()).ToArray();
            int nTrain = rng.Next(0, 40), nTruth = rng.Next(1, 70);
            train[u] = shuffled.Take(nTrain).Order().ToArray();
            truth[u] = shuffled.Skip(nTrain).Take(nTruth).Order().ToArray();
        }

        var top = TopK.SelectRows(scores, users, items, u => train[u], ks.Max());
        var metrics = new RankingMetrics(ks);
        for (int u = 0; u < users; u++)
            metrics.Add(Enumerable.Range(0, ks.Max()).Select(j => top[u, j]).ToArray(), truth[u].ToHashSet());
        var actual = metrics.Means();

        var expected = new Dictionary<string, double>();
        foreach (int k in ks)
        {
            double recall = 0, ndcg = 0, precision = 0, map = 0;
            for (int u = 0; u < users; u++)
            {
                var ranking = Enumerable.Range(0, items).Where(i => !train[u].Contains(i))
                    .OrderByDescending(i => scores[u * items + i]).ThenBy(i => i).Take(k).ToArray();
                var t = truth[u];
                bool Hit(int rank) => rank <= ranking.Length && t.Contains(ranking[rank - 1]);
                int hits = Enumerable.Range(1, k).Count(Hit);
                double dcg = Enumerable.Range(1, k).Where(Hit).Sum(r => 1 / Math.Log2(r + 1));
                double idcg = Enumerable.Range(1, Math.Min(t.Length, k)).Sum(r => 1 / Math.Log2(r + 1));
                double ap = Enumerable.Range(1, k).Where(Hit).Sum(r => Enumerable.Range(1, r).Count(Hit) / (double)r);
                recall += hits / (double)t.Length;
                ndcg += dcg / idcg;
                precision += hits / (double)k;
                map += ap / Math.Min(t.Length, k);
            }
            expected[$"recall@{k}"] = recall / users;
            expected[$"ndcg@{k}"] = ndcg / users;
            expected[$"precision@{k}"] = precision / users;
            expected[$"map@{k}"] = map / users;
        }

        Assert.Equal(16, actual.Count);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, value) in expected) Expect(actual, key, value);
        Assert.True(expected["recall@50"] > 0.05, "the problem should have hits to compare");
    }
}
