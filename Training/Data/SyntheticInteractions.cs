namespace Engine.Training.Data;

/// <summary>
/// A small, fully synthetic interaction dataset with structure a collaborative model can find and a popularity
/// ranking cannot: users and items belong to taste groups, and users mostly pick items of their own group (by a
/// skewed popularity within it). Split per user by MMRec's rule. Seeded: the same arguments give the same dataset.
/// </summary>
public static class SyntheticInteractions
{
    public static Dataset Generate(int users = 2000, int items = 1000, int groups = 20, double inGroupShare = 0.85,
        int minPerUser = 5, int maxPerUser = 30, ulong seed = 7)
    {
        var rng = new Rng(seed);
        var itemGroup = new int[items];
        var itemsOfGroup = new List<int>[groups];
        for (int g = 0; g < groups; g++) itemsOfGroup[g] = [];
        for (int i = 0; i < items; i++)
        {
            itemGroup[i] = rng.NextInt(groups);
            itemsOfGroup[itemGroup[i]].Add(i);
        }
        // Zipf-like appeal: the r-th item of a group is picked with weight 1/(r+1)^0.8.
        double Appeal(int rank) => 1 / Math.Pow(rank + 1, 0.8);

        var (trainU, trainI, validU, validI, testU, testI) = (new List<int>(), new List<int>(), new List<int>(), new List<int>(), new List<int>(), new List<int>());
        for (int u = 0; u < users; u++)
        {
            int group = rng.NextInt(groups);
            int n = minPerUser + rng.NextInt(maxPerUser - minPerUser + 1);
            var chosen = new HashSet<int>();
            var order = new List<int>();
            for (int attempt = 0; chosen.Count < n && attempt < 50 * n; attempt++)
            {
                var pool = rng.NextDouble() < inGroupShare ? itemsOfGroup[group] : itemsOfGroup[rng.NextInt(groups)];
                if (pool.Count == 0) continue;
                int item = pool[PickWeighted(rng, pool.Count, Appeal)];
                if (chosen.Add(item)) order.Add(item);
            }
            var shuffled = order.ToArray();
            rng.Shuffle(shuffled);
            var (train, valid) = SplitSizes(shuffled.Length);
            for (int j = 0; j < shuffled.Length; j++)
            {
                var (us, its) = j < train ? (trainU, trainI) : j < train + valid ? (validU, validI) : (testU, testI);
                us.Add(u);
                its.Add(shuffled[j]);
            }
        }
        return new Dataset("synthetic", "(built in)", users, items,
            new InteractionSet([.. trainU], [.. trainI]), new InteractionSet([.. validU], [.. validI]), new InteractionSet([.. testU], [.. testI]));
    }

    /// <summary>
    /// The dataset <c>sea train</c> uses when given none: 3,000 users and 1,000 items from <see cref="Generate"/>,
    /// with semi-synthetic image (256 wide), text (64 wide) and fused multimodal (128 wide) features planted from its
    /// training pairs by <see cref="FeatureSynthesizer"/>. Small enough to train SEA on two cores in about a minute.
    /// </summary>
    public static Dataset BuiltIn()
    {
        var d = Generate(users: 3000, items: 1000, groups: 25, seed: 7);
        var f = FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train,
            new SynthesisOptions(ImageDim: 256, TextDim: 64, GenericRank: 8, UniqueRank: 4, Noise: 0.1, Seed: 7, MultimodalDim: 128));
        return new Dataset("synthetic", "(built in)", d.Users, d.Items, d.Train, d.Valid, d.Test, f.Image, f.Text, multimodal: f.Multimodal);
    }

    /// <summary>
    /// MMRec's per-user split (its preprocessing notebook): with n &lt; 10 interactions, n − 2 train, 1 valid, 1 test;
    /// otherwise floor(0.2n) go to valid + test, half of them (rounded down) to valid. Returns (train, valid) counts.
    /// </summary>
    public static (int Train, int Valid) SplitSizes(int n)
    {
        if (n < 10) return (n - 2, 1);
        int heldOut = n / 5;
        return (n - heldOut, heldOut / 2);
    }

    private static int PickWeighted(Rng rng, int count, Func<int, double> weight)
    {
        double total = 0;
        for (int r = 0; r < count; r++) total += weight(r);
        double target = rng.NextDouble() * total;
        for (int r = 0; r < count; r++)
        {
            target -= weight(r);
            if (target < 0) return r;
        }
        return count - 1;
    }
}
