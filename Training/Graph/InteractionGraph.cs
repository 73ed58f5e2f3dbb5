namespace Engine.Training.Graph;

/// <summary>The user–item graph propagated over by LightGCN and SEA.</summary>
public static class InteractionGraph
{
    /// <summary>
    /// Â = D^-1/2 A D^-1/2 over N = users + items nodes (users first), where A has a 1 for every training pair and
    /// its mirror and no self-loops. A node without training pairs (an item never bought in training) has degree 0
    /// and gets an empty row and column instead of a division by zero.
    /// </summary>
    public static CsrMatrix NormalizedAdjacency(Backend backend, int users, int items, ReadOnlySpan<int> pairUsers,
        ReadOnlySpan<int> pairItems, DType dtype)
    {
        if (pairUsers.Length != pairItems.Length)
            throw new ArgumentException($"{pairUsers.Length} users but {pairItems.Length} items in the training pairs");
        int nodes = users + items, pairs = pairUsers.Length;
        var degree = new int[nodes];
        for (int p = 0; p < pairs; p++)
        {
            degree[pairUsers[p]]++;
            degree[users + pairItems[p]]++;
        }
        var rows = new int[2 * pairs];
        var cols = new int[2 * pairs];
        var values = new double[2 * pairs];
        for (int p = 0; p < pairs; p++)
        {
            int u = pairUsers[p], i = users + pairItems[p];
            double value = 1 / Math.Sqrt((double)degree[u] * degree[i]);
            (rows[2 * p], cols[2 * p], values[2 * p]) = (u, i, value);
            (rows[2 * p + 1], cols[2 * p + 1], values[2 * p + 1]) = (i, u, value);
        }
        return CsrMatrix.FromCoo(backend, nodes, nodes, rows, cols, values, dtype);
    }
}
