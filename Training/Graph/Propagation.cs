using Engine.Autograd;

namespace Engine.Training.Graph;

/// <summary>Graph propagation shared by the models (MODELS.md §0.3).</summary>
public static class Propagation
{
    /// <summary>
    /// LightGCN-mean: X⁰ = [users; items], X^{l+1} = Â·X^l, result (X⁰ + … + X^L)/(L + 1), over all nodes, users first.
    /// LightGCN, FREEDOM, AlignRec and DRepMRec propagate their ID tables this way.
    /// </summary>
    public static Var LayerMean(CsrMatrix adjacency, Var users, Var items, int layers)
    {
        if (adjacency.Rows != users.Rows + items.Rows)
            throw new ArgumentException($"the adjacency has {adjacency.Rows} nodes, but there are {users.Rows} users + {items.Rows} items");
        var layer = Ops.ConcatRows(users, items);
        var sum = layer;
        for (int l = 0; l < layers; l++)
        {
            layer = adjacency.Spmm(layer);
            sum += layer;
        }
        return sum * (1.0 / (layers + 1));
    }
}
