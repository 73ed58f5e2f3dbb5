namespace Engine.Training.Graph;

/// <summary>The user–item graph propagated over by LightGCN, SEA, FREEDOM, AlignRec and DRepMRec (MODELS.md §0.2, G1 and G2).</summary>
public static class InteractionGraph
{
    /// <summary>
    /// Â = D^-1/2 A D^-1/2 over N = users + items nodes (users first), where A has a 1 for every training pair and
    /// its mirror and no self-loops. A node without training pairs (an item never bought in training) has degree 0
    /// and gets an empty row and column instead of a division by zero. <paramref name="degreeOffset"/> is added to
    /// every degree first (FREEDOM adds 1e-7).
    /// </summary>
    public static CsrMatrix NormalizedAdjacency(Backend backend, int users, int items, ReadOnlySpan<int> pairUsers,
        ReadOnlySpan<int> pairItems, DType dtype, double degreeOffset = 0)
    {
        var weights = PairWeights(users, items, pairUsers, pairItems, degreeOffset);
        int nodes = users + items, pairs = pairUsers.Length;
        var rows = new int[2 * pairs];
        var cols = new int[2 * pairs];
        var values = new double[2 * pairs];
        for (int p = 0; p < pairs; p++)
        {
            int u = pairUsers[p], i = users + pairItems[p];
            (rows[2 * p], cols[2 * p], values[2 * p]) = (u, i, weights[p]);
            (rows[2 * p + 1], cols[2 * p + 1], values[2 * p + 1]) = (i, u, weights[p]);
        }
        return CsrMatrix.FromCoo(backend, nodes, nodes, rows, cols, values, dtype);
    }

    /// <summary>
    /// R, the users × items block of Â (G2): R_ui = 1/sqrt(d_u·d_i) for every training pair. R·H gives users the
    /// degree-weighted sum of their items' rows of H (AlignRec's and DRepMRec's modal user embeddings).
    /// </summary>
    public static CsrMatrix UserItemBlock(Backend backend, int users, int items, ReadOnlySpan<int> pairUsers,
        ReadOnlySpan<int> pairItems, DType dtype) =>
        CsrMatrix.FromCoo(backend, users, items, pairUsers, pairItems, PairWeights(users, items, pairUsers, pairItems), dtype);

    /// <summary>
    /// Each pair's entry of Â: (d_u + offset)^-1/2 · (d_i + offset)^-1/2, with the degrees counted over the given pairs.
    /// </summary>
    public static double[] PairWeights(int users, int items, ReadOnlySpan<int> pairUsers, ReadOnlySpan<int> pairItems,
        double degreeOffset = 0)
    {
        if (pairUsers.Length != pairItems.Length)
            throw new ArgumentException($"{pairUsers.Length} users but {pairItems.Length} items in the training pairs");
        int pairs = pairUsers.Length;
        var degree = new int[users + items];
        for (int p = 0; p < pairs; p++)
        {
            degree[pairUsers[p]]++;
            degree[users + pairItems[p]]++;
        }
        var weights = new double[pairs];
        for (int p = 0; p < pairs; p++)
            weights[p] = 1 / Math.Sqrt((degree[pairUsers[p]] + degreeOffset) * (degree[users + pairItems[p]] + degreeOffset));
        return weights;
    }
}
