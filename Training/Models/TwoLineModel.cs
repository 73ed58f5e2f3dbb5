using Engine.Autograd;
using Engine.Training.Graph;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>
/// What AlignRec and DRepMRec share (MODELS.md §4, §5): a behaviour line, ID embeddings E_u, E_i (Xavier uniform)
/// propagated by LightGCN-mean over Â, and a modal line, item embeddings made from features by the subclass's
/// <see cref="ModalBranch"/>es and given to users through R (G2). Users and items are represented by the sum of
/// the two lines, Z = behaviour + modal, scored by dot product, and trained with BPR (natural log) on Z, the L2
/// penalty reg · ½(‖Z_u‖² + ‖Z_p‖² + ‖Z_n‖²) / (configured batch size), the similarity term of every modality and
/// the subclass's alignment terms. Nothing is random after construction, so the parameters are the whole state.
/// </summary>
public abstract class TwoLineModel : RecommenderModel
{
    private readonly CsrMatrix adjacency;
    private readonly CsrMatrix userItem;
    private readonly int layers;
    private readonly int batchSize;
    private readonly double regWeight;
    private readonly double similarityWeight;

    protected TwoLineModel(Backend backend, int users, int items, CsrMatrix adjacency, CsrMatrix userItem, int layers, int dimension,
        int batchSize, double regWeight, double similarityWeight, DType dtype, Rng rng)
    {
        if (adjacency.Rows != users + items)
            throw new ArgumentException($"the adjacency has {adjacency.Rows} nodes, but there are {users} users + {items} items");
        if (userItem.Rows != users || userItem.Cols != items)
            throw new ArgumentException($"the user–item block is {userItem.Rows}×{userItem.Cols}, not {users}×{items}");
        if (layers < 0) throw new ArgumentOutOfRangeException(nameof(layers), layers, "cannot be negative");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be at least 1");
        (this.adjacency, this.userItem, this.layers, this.batchSize) = (adjacency, userItem, layers, batchSize);
        (this.regWeight, this.similarityWeight) = (regWeight, similarityWeight);
        Users = users;
        UserEmbedding = Var.Parameter(Init.XavierUniform(backend, users, dimension, dtype, rng), "user_embedding");
        ItemEmbedding = Var.Parameter(Init.XavierUniform(backend, items, dimension, dtype, rng), "item_id_embedding");
    }

    public int Users { get; }
    protected Var UserEmbedding { get; }
    protected Var ItemEmbedding { get; }

    /// <summary>
    /// Both lines over all nodes, users first (N × d each), and each modality's item embeddings after the item graph
    /// (I × d), which its similarity term reads.
    /// </summary>
    protected sealed record Lines(Var Behaviour, Var Modal, IReadOnlyList<(ModalBranch Branch, Var Items)> Modalities);

    /// <summary>The batch's rows: users, and positive and negative items as nodes (offset by the user count) and as items.</summary>
    protected sealed record BatchRows(Tensor Users, Tensor PositiveNodes, Tensor NegativeNodes, Tensor PositiveItems);

    protected abstract Lines Forward();

    /// <summary>Whether the loss has its BPR term (AlignRec's warm-up leaves it out).</summary>
    protected virtual bool RankingLoss => true;

    /// <summary>The model's own weighted terms, each recorded with <see cref="RecommenderModel.Term"/>, given Z's batch rows.</summary>
    protected abstract IEnumerable<Var> AlignmentTerms(Lines lines, BatchRows rows, Var user, Var positive);

    /// <summary>The behaviour line: LightGCN-mean of [E_u; E_i] over Â.</summary>
    protected Var BehaviourLine() => Propagation.LayerMean(adjacency, UserEmbedding, ItemEmbedding, layers);

    /// <summary>[R·H; H]: item rows H below the users' R-weighted sums of their training items' rows (N × d).</summary>
    protected Var WithUsers(Var items) => Ops.ConcatRows(userItem.Spmm(items), items);

    /// <summary>
    /// InfoNCE of the same entity across the lines, in-batch, modal rows anchoring behaviour candidates, for the
    /// positive items and for the users (AlignRec's L_cca, DRepMRec's L_intra).
    /// </summary>
    protected static Var SameEntityAlignment(Lines lines, BatchRows rows, double temperature) =>
        Losses.NormalizedInfoNce(lines.Modal.GatherRows(rows.PositiveNodes), lines.Behaviour.GatherRows(rows.PositiveNodes), temperature) +
        Losses.NormalizedInfoNce(lines.Modal.GatherRows(rows.Users), lines.Behaviour.GatherRows(rows.Users), temperature);

    protected override Var ComputeLoss(TrainingBatch batch)
    {
        var backend = UserEmbedding.Backend;
        var rows = new BatchRows(Index(backend, batch.Users), Index(backend, Offset(batch.PositiveItems)),
            Index(backend, Offset(batch.NegativeItems)), Index(backend, batch.PositiveItems));
        var lines = Forward();
        var z = lines.Behaviour + lines.Modal;
        var user = z.GatherRows(rows.Users);
        var positive = z.GatherRows(rows.PositiveNodes);
        var negative = z.GatherRows(rows.NegativeNodes);
        var bpr = RankingLoss ? Term("bpr", Losses.Bpr((user * positive).Sum(dim: 1), (user * negative).Sum(dim: 1))) : null;
        var reg = Term("reg", Losses.HalfSquaredNorms(batchSize, user, positive, negative) * regWeight);
        var loss = bpr is null ? reg : bpr + reg;
        foreach (var term in AlignmentTerms(lines, rows, user, positive)) loss += term;
        if (similarityWeight != 0)
        {
            var similarity = lines.Modalities[0].Branch.SimilarityLoss(lines.Modalities[0].Items, rows.PositiveItems);
            foreach (var (branch, items) in lines.Modalities.Skip(1)) similarity += branch.SimilarityLoss(items, rows.PositiveItems);
            loss += Term("sim", similarity * similarityWeight);
        }
        return loss;
    }

    public override (Tensor Users, Tensor Items) RankingEmbeddings()
    {
        using var scope = Tape.Begin();
        using var noGrad = Tape.NoGrad();
        var lines = Forward();
        var z = lines.Behaviour + lines.Modal;
        return (z.SliceRows(0, Users).Value.Clone(), z.SliceRows(Users, z.Rows - Users).Value.Clone());
    }

    private int[] Offset(int[] items) => Array.ConvertAll(items, i => i + Users);
}
