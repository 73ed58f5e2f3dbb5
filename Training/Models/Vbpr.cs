using Engine.Autograd;
using Engine.Training.Data;
using Engine.Training.Layers;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>
/// VBPR (He and McAuley, AAAI'16) as MMRec's vbpr.py computes it (MODELS.md §1). Users are a table P (U × 2d); an
/// item is [Q_i ‖ W·x_i + b], its ID embedding beside a linear map of its constant features x_i = [text ‖ image]
/// (text columns first). Score = ⟨P_u, item_i⟩. Loss: MMRec's BPR with ε (<see cref="Losses.BprWithEpsilon"/>) plus
/// λ · EmbLoss (<see cref="Losses.EmbeddingNorms"/>) of the batch's user, positive and negative rows. No graph.
/// </summary>
public sealed class Vbpr : RecommenderModel
{
    private readonly Var features;
    private readonly Var userEmbedding;
    private readonly Var itemEmbedding;
    private readonly Linear itemLinear;

    public Vbpr(Backend backend, int users, int items, FeatureMatrix image, FeatureMatrix text, VbprOptions options, Rng rng,
        int dimension = 64, DType dtype = DType.Float32)
    {
        if (image.Rows != items || text.Rows != items)
            throw new ArgumentException($"VBPR needs a feature row per item: {items} items, but image features have {image.Rows} rows and text features {text.Rows}");
        Options = options;
        features = Var.Constant(SideBySide(text, image).ToTensor(backend, dtype), "features");
        // MMRec: bare tables drawn Xavier uniform, then its Xavier-normal pass over the Linear.
        userEmbedding = Var.Parameter(Init.XavierUniform(backend, users, 2 * dimension, dtype, rng), "u_embedding");
        itemEmbedding = Var.Parameter(Init.XavierUniform(backend, items, dimension, dtype, rng), "i_embedding");
        itemLinear = new Linear(backend, features.Cols, dimension, dtype, rng, "item_linear", LinearInit.XavierNormal);
    }

    public override string Name => "vbpr";
    public VbprOptions Options { get; }
    public override IReadOnlyList<Var> Parameters => [userEmbedding, itemEmbedding, .. itemLinear.Parameters];

    protected override Var ComputeLoss(TrainingBatch batch)
    {
        var backend = userEmbedding.Backend;
        int b = batch.Count;
        // Only the batch's items are projected: the other rows of item would get no gradient, so this is exact.
        var (distinct, slots) = Distinct([.. batch.PositiveItems, .. batch.NegativeItems]);
        var index = Index(backend, distinct);
        var projected = Ops.ConcatColumns(itemEmbedding.GatherRows(index), itemLinear.Forward(features.GatherRows(index)));
        var items = projected.GatherRows(Index(backend, slots));
        var (user, positive, negative) = (userEmbedding.GatherRows(Index(backend, batch.Users)), items.SliceRows(0, b), items.SliceRows(b, b));

        var bpr = Term("bpr", Losses.BprWithEpsilon((user * positive).Sum(dim: 1), (user * negative).Sum(dim: 1)));
        return bpr + Term("reg", Losses.EmbeddingNorms(user, positive, negative) * Options.RegWeight);
    }

    public override (Tensor Users, Tensor Items) RankingEmbeddings()
    {
        using var scope = Tape.Begin();
        using var noGrad = Tape.NoGrad();
        var items = Ops.ConcatColumns(itemEmbedding, itemLinear.Forward(features));
        return (userEmbedding.Value.Clone(), items.Value.Clone());
    }

    /// <summary>[left ‖ right], row by row.</summary>
    private static FeatureMatrix SideBySide(FeatureMatrix left, FeatureMatrix right)
    {
        int cols = left.Cols + right.Cols;
        var data = new float[(long)left.Rows * cols];
        for (int r = 0; r < left.Rows; r++)
        {
            left.Row(r).CopyTo(data.AsSpan(r * cols, left.Cols));
            right.Row(r).CopyTo(data.AsSpan(r * cols + left.Cols, right.Cols));
        }
        return new FeatureMatrix(left.Rows, cols, data);
    }
}
