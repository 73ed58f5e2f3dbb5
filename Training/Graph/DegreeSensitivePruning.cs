namespace Engine.Training.Graph;

/// <summary>
/// FREEDOM's degree-sensitive edge pruning (MODELS.md G5): before every epoch, keep m = floor(|E|·(1 − ρ)) distinct
/// training pairs drawn without replacement with probability proportional to w_ui = (d_u + ε)^-1/2 (d_i + ε)^-1/2
/// (full training degrees, ε = 1e-7), so pairs between low-degree nodes survive more often; then normalise the kept
/// pairs as Â over their own degrees d' (same ε), each pair and its mirror: 2m non-zeros.
/// </summary>
public sealed class DegreeSensitivePruning
{
    /// <summary>What FREEDOM adds to every degree before the inverse square root.</summary>
    public const double DegreeOffset = 1e-7;

    private readonly int users;
    private readonly int items;
    private readonly int[] pairUsers;
    private readonly int[] pairItems;
    private readonly double[] weights;

    /// <param name="ratio">ρ, the share of pairs dropped, in [0, 1)</param>
    public DegreeSensitivePruning(int users, int items, int[] pairUsers, int[] pairItems, double ratio)
    {
        if (!(ratio >= 0 && ratio < 1)) throw new ArgumentException($"the pruned share of edges ρ must be in [0, 1), got {ratio}");
        this.users = users;
        this.items = items;
        this.pairUsers = pairUsers;
        this.pairItems = pairItems;
        weights = InteractionGraph.PairWeights(users, items, pairUsers, pairItems, DegreeOffset);
        // As FREEDOM computes it: int(|E| · (1 − ρ)) in double arithmetic.
        KeptPairs = (int)(pairUsers.Length * (1.0 - ratio));
    }

    /// <summary>m, the pairs kept per draw.</summary>
    public int KeptPairs { get; }

    /// <summary>w_ui of every training pair, the unnormalised probability of drawing it.</summary>
    public IReadOnlyList<double> Weights => weights;

    /// <summary>
    /// The indices of m pairs drawn without replacement with probability ∝ w, by Efraimidis–Spirakis: each pair gets the
    /// key r^(1/w), r ~ U(0, 1], and the m largest keys win (compared as ln(r)/w, the same order without underflow).
    /// The same as m sequential weighted draws in distribution.
    /// </summary>
    public int[] SamplePairs(Rng rng)
    {
        var keys = new double[weights.Length];
        var order = new int[weights.Length];
        for (int p = 0; p < weights.Length; p++)
        {
            keys[p] = Math.Log(1 - rng.NextDouble()) / weights[p];
            order[p] = p;
        }
        Array.Sort(keys, order);
        return order[^KeptPairs..];
    }

    /// <summary>One epoch's pruned graph: a fresh draw, normalised over the kept pairs.</summary>
    public CsrMatrix Draw(Backend backend, Rng rng, DType dtype)
    {
        var kept = SamplePairs(rng);
        var keptUsers = Array.ConvertAll(kept, p => pairUsers[p]);
        var keptItems = Array.ConvertAll(kept, p => pairItems[p]);
        return InteractionGraph.NormalizedAdjacency(backend, users, items, keptUsers, keptItems, dtype, DegreeOffset);
    }
}
