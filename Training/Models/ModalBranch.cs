using Engine.Autograd;
using Engine.Training.Data;
using Engine.Training.Layers;

namespace Engine.Training.Models;

/// <summary>
/// One modality of the modal line of AlignRec and DRepMRec (MODELS.md §0.5, §4, §5): Φ, a copy of the raw features
/// that Adam trains (or a constant copy), a Linear T to the embedding width (PyTorch default init), a gate G
/// (Linear d → d, then sigmoid), and the item graph the gated embeddings hop over once. The original features stay
/// as a constant, row-normalised copy: their cosines are the targets of the similarity term.
/// </summary>
public sealed class ModalBranch
{
    private readonly Var unitFeatures;
    private readonly CsrMatrix itemGraph;

    public ModalBranch(string name, Backend backend, FeatureMatrix features, CsrMatrix itemGraph, int dimension, bool trainable,
        DType dtype, Rng rng, bool layerNorm = false)
    {
        if (itemGraph.Rows != features.Rows || itemGraph.Cols != features.Rows)
            throw new ArgumentException($"the {name} item graph is {itemGraph.Rows}×{itemGraph.Cols}, but there are {features.Rows} items");
        this.itemGraph = itemGraph;
        var original = features.ToTensor(backend, dtype);
        var unit = backend.Allocate(features.Rows, features.Cols, dtype);
        backend.RowL2Normalize(original, unit);
        unitFeatures = Var.Constant(unit, $"{name}.unit_features");
        Features = trainable ? Var.Parameter(original, $"{name}_embedding") : Var.Constant(original, $"{name}_embedding");
        Projection = new Linear(backend, features.Cols, dimension, dtype, rng, $"{name}_trs");
        Gate = new Linear(backend, dimension, dimension, dtype, rng, $"{name}_gate");
        if (layerNorm) Norm = new LayerNorm(backend, features.Cols, dtype, $"{name}_ln");
    }

    /// <summary>Φ (I × D): trained when the branch was built trainable, else a constant.</summary>
    public Var Features { get; }
    public Linear Projection { get; }
    public Linear Gate { get; }

    /// <summary>The layer normalisation of Φ before T, where the branch was built with one (AlignRec's <c>--use_ln</c>).</summary>
    public LayerNorm? Norm { get; }

    public IEnumerable<Var> Parameters => (Features.RequiresGrad ? [Features] : Array.Empty<Var>()).Concat(Projection.Parameters)
        .Concat(Gate.Parameters).Concat(Norm?.Parameters ?? []);

    /// <summary>X = T(Φ), or T(LayerNorm(Φ)), the items' projected features (I × d).</summary>
    public Var Project() => Projection.Forward(Norm is null ? Features : Norm.Forward(Features));

    /// <summary>
    /// S·(gated ⊙ σ(G·x)): <paramref name="gated"/> filtered by the gate computed from <paramref name="x"/>, then one
    /// hop over the item graph. AlignRec's purifier gates the item ID embeddings with x = X; DRepMRec's self-gate
    /// gates X itself.
    /// </summary>
    public Var GateAndPropagate(Var gated, Var x) => itemGraph.Spmm(gated * Gate.Forward(x).Sigmoid());

    /// <summary>
    /// MODELS.md's L8 on the rows <paramref name="items"/> of <paramref name="embeddings"/>: their similarities kept
    /// close to the cosines of the same items' original features (a constant; no gradient flows to it).
    /// </summary>
    public Var SimilarityLoss(Var embeddings, Tensor items)
    {
        var original = unitFeatures.GatherRows(items);
        return Losses.SimilarityPreservation(embeddings.GatherRows(items), original.MatMul(original, transB: true));
    }
}
