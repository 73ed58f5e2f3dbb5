using Engine.Autograd;
using Engine.Training.Graph;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>How LightGCN's embedding regulariser is computed.</summary>
public enum RegForm
{
    /// <summary>EVAL.md's statement: reg × (squared L2 norms of the batch's layer-0 embeddings) / (2 × batch).</summary>
    Squared,

    /// <summary>
    /// MMRec's code (common/loss.py, EmbLoss): reg × (‖U‖_F + ‖I⁺‖_F + ‖I⁻‖_F) / batch with unsquared Frobenius norms
    /// of the batch's layer-0 embedding matrices: a far weaker penalty at the same reg_weight.
    /// </summary>
    Norm,
}

/// <summary>
/// LightGCN as MMRec runs it: ID embeddings (Xavier uniform) for users and items, propagated over the normalised
/// adjacency Â for L layers, the final embedding the mean of layers 0..L; BPR in natural log plus a penalty on the
/// batch's layer-0 user, positive and negative embeddings (see <see cref="RegForm"/>: EVAL.md's squared form by default).
/// </summary>
public sealed class LightGcn : RecommenderModel
{
    private readonly CsrMatrix adjacency;
    private readonly Var userEmbedding;
    private readonly Var itemEmbedding;

    public LightGcn(Backend backend, int users, int items, CsrMatrix adjacency, int layers, double regWeight, Rng rng,
        int dimension = 64, DType dtype = DType.Float32, RegForm regForm = RegForm.Squared)
    {
        if (adjacency.Rows != users + items)
            throw new ArgumentException($"the adjacency has {adjacency.Rows} nodes, but there are {users} users + {items} items");
        if (layers < 0) throw new ArgumentOutOfRangeException(nameof(layers), layers, "cannot be negative");
        this.adjacency = adjacency;
        Users = users;
        Layers = layers;
        RegWeight = regWeight;
        RegForm = regForm;
        userEmbedding = Var.Parameter(Init.XavierUniform(backend, users, dimension, dtype, rng), "user_embedding");
        itemEmbedding = Var.Parameter(Init.XavierUniform(backend, items, dimension, dtype, rng), "item_embedding");
    }

    public override string Name => "lightgcn";
    public int Users { get; }
    public int Layers { get; }
    public double RegWeight { get; }
    public RegForm RegForm { get; }
    public override IReadOnlyList<Var> Parameters => [userEmbedding, itemEmbedding];

    private Var Propagate() => Propagation.LayerMean(adjacency, userEmbedding, itemEmbedding, Layers);

    protected override Var ComputeLoss(TrainingBatch batch)
    {
        var backend = userEmbedding.Backend;
        var all = Propagate();
        var users = Index(backend, batch.Users);
        var positives = Index(backend, batch.PositiveItems);
        var negatives = Index(backend, batch.NegativeItems);
        var positiveNodes = Index(backend, Offset(batch.PositiveItems, Users));
        var negativeNodes = Index(backend, Offset(batch.NegativeItems, Users));

        var u = all.GatherRows(users);
        var positiveScores = (u * all.GatherRows(positiveNodes)).Sum(dim: 1);
        var negativeScores = (u * all.GatherRows(negativeNodes)).Sum(dim: 1);
        var bpr = Term("bpr", Losses.Bpr(positiveScores, negativeScores));

        Var[] layer0 = [userEmbedding.GatherRows(users), itemEmbedding.GatherRows(positives), itemEmbedding.GatherRows(negatives)];
        if (RegForm == RegForm.Norm)
            return bpr + Term("reg", Losses.EmbeddingNorms(layer0) * RegWeight);
        return bpr + Term("reg", Losses.HalfSquaredNorms(batch.Count, layer0) * RegWeight);
    }

    public override (Tensor Users, Tensor Items) RankingEmbeddings()
    {
        using var scope = Tape.Begin();
        using var noGrad = Tape.NoGrad();
        var all = Propagate();
        return (all.SliceRows(0, Users).Value.Clone(), all.SliceRows(Users, all.Rows - Users).Value.Clone());
    }

    private static int[] Offset(int[] items, int offset) => Array.ConvertAll(items, i => i + offset);
}
