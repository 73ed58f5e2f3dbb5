using Engine.Autograd;
using Engine.Training.Checkpoints;
using Engine.Training.Data;
using Engine.Training.Layers;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>
/// VBPR+SEA (MODELS.md §3.1; the released XVBPR of the SEA authors' MM_OOD fork, with CLUB as their logged Baby run
/// used it). Each modality's features are mapped to d columns, E_m = W_m(F_m), and split into a generic half g_m and a
/// unique half u_m. Items are [Q_i ‖ H_t(g_t)_i ‖ H_v(g_v)_i], the ID table beside the two projection heads' unit rows;
/// users a table P (U × (d + 2·out)); the unique halves never reach the score. Both tables pass through dropout, also
/// at evaluation as the code does (<see cref="VbprSeaOptions.DropoutAtEvaluation"/>). Loss: MMRec's BPR with ε and
/// λ · EmbLoss on the dropped rows, α · SoloSim (InfoNCE of the heads' outputs, text anchors over image candidates,
/// all items), and the distancing of g_m from u_m: β/2 · CLUB (fitted on the released cross-modal pairs) or c/2 · −MSE.
/// </summary>
public sealed class VbprSea : RecommenderModel
{
    private readonly Var textFeatures;
    private readonly Var imageFeatures;
    private readonly Var userEmbedding;
    private readonly Var itemEmbedding;
    private readonly ProjectHead textHead;
    private readonly ProjectHead imageHead;
    private readonly Linear itemLinear; // allocated and counted as in the code, never used
    private readonly Linear textLinear;
    private readonly Linear imageLinear;
    private readonly ClubEstimator club;
    private readonly Dropout dropout;
    private readonly int half;

    public VbprSea(Backend backend, int users, int items, FeatureMatrix image, FeatureMatrix text, VbprSeaOptions options, Rng rng,
        int dimension = 64, DType dtype = DType.Float32)
    {
        if (image.Rows != items || text.Rows != items)
            throw new ArgumentException($"VBPR+SEA needs a feature row per item: {items} items, but image features have {image.Rows} rows and text features {text.Rows}");
        if (dimension < 2 || dimension % 2 != 0) throw new ArgumentException($"VBPR+SEA splits its {dimension}-wide projections in halves: the width must be even");
        Options = options;
        half = dimension / 2;
        textFeatures = Var.Constant(text.ToTensor(backend, dtype), "text_features");
        imageFeatures = Var.Constant(image.ToTensor(backend, dtype), "image_features");
        userEmbedding = Var.Parameter(Init.XavierUniform(backend, users, dimension + 2 * options.ProjectionOut, dtype, rng), "u_embedding");
        itemEmbedding = Var.Parameter(Init.XavierUniform(backend, items, dimension, dtype, rng), "i_embedding");
        // The modules in the logged run's order, every Linear through MMRec's Xavier-normal pass.
        textHead = new ProjectHead(backend, half, options.ProjectionHidden, options.ProjectionOut, dtype, rng, "t_proj", LinearInit.XavierNormal);
        imageHead = new ProjectHead(backend, half, options.ProjectionHidden, options.ProjectionOut, dtype, rng, "v_proj", LinearInit.XavierNormal);
        itemLinear = new Linear(backend, text.Cols + image.Cols, dimension, dtype, rng, "item_linear", LinearInit.XavierNormal);
        textLinear = new Linear(backend, text.Cols, dimension, dtype, rng, "t_item_linear", LinearInit.XavierNormal);
        imageLinear = new Linear(backend, image.Cols, dimension, dtype, rng, "v_item_linear", LinearInit.XavierNormal);
        club = new ClubEstimator(backend, half, options.ClubHidden, options.ClubLearningRate, dtype, rng);
        dropout = new Dropout(options.Dropout, new Rng(rng.NextUInt64()));
    }

    public override string Name => "vbpr-sea";
    public VbprSeaOptions Options { get; }

    public override IReadOnlyList<Var> Parameters =>
    [
        userEmbedding, itemEmbedding, .. textHead.Parameters, .. imageHead.Parameters, .. itemLinear.Parameters,
        .. textLinear.Parameters, .. imageLinear.Parameters,
    ];

    /// <summary>CLUB's network, trained by its own optimiser inside every batch.</summary>
    public IReadOnlyList<Var> ClubParameters => club.Parameters;

    /// <summary>Draws CLUB's permutations; part of the training state.</summary>
    public Rng PermutationRng => club.PermutationRng;

    /// <summary>Draws the dropout masks, in training and (by default) at evaluation; part of the training state.</summary>
    public Rng DropoutRng => dropout.Rng;

    protected override Var ComputeLoss(TrainingBatch batch)
    {
        int b = batch.Count;
        var f = Forward(training: true);
        var user = DroppedRows(userEmbedding, batch.Users);
        var items = DroppedRows(f.Items, [.. batch.PositiveItems, .. batch.NegativeItems]);
        var (positive, negative) = (items.SliceRows(0, b), items.SliceRows(b, b));
        var loss = Term("bpr", Losses.BprWithEpsilon((user * positive).Sum(dim: 1), (user * negative).Sum(dim: 1)))
                   + Term("reg", Losses.EmbeddingNorms(user, positive, negative) * Options.RegWeight);

        if (Options.Alpha != 0)
            loss += Term("solosim", Losses.InfoNce(f.TextAligned, f.ImageAligned, Options.Temperature) * Options.Alpha);
        if (Options.Distance == Distance.Club && Options.Beta != 0)
        {
            loss += Term("club", Distancing.Of(club, Distance.Club, (f.TextGeneric, f.TextUnique), (f.ImageGeneric, f.ImageUnique)) * (Options.Beta / 2));
            club.Keep((f.TextGeneric, f.ImageGeneric), (f.TextUnique, f.ImageUnique)); // SEA's released cross-modal pairing
        }
        else if (Options.Distance == Distance.L2 && Options.MseWeight != 0)
        {
            var negativeMse = Distancing.Of(club, Distance.L2, (f.TextGeneric, f.TextUnique), (f.ImageGeneric, f.ImageUnique));
            loss += Term("l2", negativeMse * (Options.MseWeight / 2));
        }
        return loss;
    }

    /// <summary>CLUB's network trains on this batch's detached halves (SEA's trainer).</summary>
    public override void AfterBackward(TrainingBatch batch) => club.Fit(Options.ClubSteps);

    /// <summary>Evaluation-mode heads over all items; dropout on both tables unless <see cref="VbprSeaOptions.DropoutAtEvaluation"/> is off.</summary>
    public override (Tensor Users, Tensor Items) RankingEmbeddings()
    {
        using var scope = Tape.Begin();
        using var noGrad = Tape.NoGrad();
        var (user, item) = (userEmbedding, Forward(training: false).Items);
        if (Options.DropoutAtEvaluation) (user, item) = (dropout.Apply(user), dropout.Apply(item));
        return (user.Value.Clone(), item.Value.Clone());
    }

    /// <summary>The parameters, the heads' running statistics, CLUB's state and the dropout generator.</summary>
    public override void VisitState(IStateVisitor visitor)
    {
        base.VisitState(visitor);
        textHead.VisitState(visitor);
        imageHead.VisitState(visitor);
        club.VisitState(visitor);
        visitor.Rng("dropout_rng", dropout.Rng);
    }

    public override void Dispose()
    {
        club.Dispose();
        base.Dispose();
    }

    private sealed record Outputs(Var Items, Var TextGeneric, Var TextUnique, Var ImageGeneric, Var ImageUnique, Var TextAligned, Var ImageAligned);

    /// <summary>All items' table and the pieces the loss needs; <paramref name="training"/> is the heads' batch-normalisation mode.</summary>
    private Outputs Forward(bool training)
    {
        var text = textLinear.Forward(textFeatures);
        var image = imageLinear.Forward(imageFeatures);
        var (textGeneric, imageGeneric) = (text.SliceColumns(0, half), image.SliceColumns(0, half));
        var textAligned = textHead.Forward(textGeneric, training);
        var imageAligned = imageHead.Forward(imageGeneric, training);
        return new Outputs(Ops.ConcatColumns(itemEmbedding, textAligned, imageAligned), textGeneric, text.SliceColumns(half, half),
            imageGeneric, image.SliceColumns(half, half), textAligned, imageAligned);
    }

    /// <summary>
    /// Rows <paramref name="ids"/> of dropout(table), one mask per distinct row: the distribution of the code's mask
    /// over the whole table followed by a gather, without drawing masks for the rows the batch does not use.
    /// </summary>
    private Var DroppedRows(Var table, int[] ids)
    {
        var (distinct, slots) = Distinct(ids);
        return dropout.Apply(table.GatherRows(Index(table.Backend, distinct))).GatherRows(Index(table.Backend, slots));
    }
}
