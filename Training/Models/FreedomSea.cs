using Engine.Autograd;
using Engine.Training.Checkpoints;
using Engine.Training.Data;
using Engine.Training.Layers;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>
/// FREEDOM+SEA (MODELS.md §3.2): our reconstruction of the SEA authors' logged XFREEDOM run, whose code was not
/// released. FREEDOM unchanged, plus SEA's terms on FREEDOM's own feature projections G_m = T_m(Φ_m): each is split
/// into a generic half g_m and a unique half u_m; the loss adds α · SoloSim (InfoNCE of the projection heads' rows
/// H_t(g_t) over H_v(g_v), all items) and β/2 · (CLUB(g_t → u_t) + CLUB(g_v → u_v)), CLUB's network fitted on SEA's
/// released cross-modal pairs. The heads serve only the loss. G_m reaches the ranking only through FREEDOM's λ-weighted
/// modality terms, so at λ = 0 SEA's terms change no score: the model then ranks exactly as FREEDOM from the same
/// ID tables, graphs and batches.
/// </summary>
public sealed class FreedomSea : Freedom
{
    private readonly FreedomSeaOptions options;
    private readonly ProjectHead textHead;
    private readonly ProjectHead imageHead;
    private readonly ClubEstimator club;
    private readonly int half;

    /// <param name="dimension">the width of the ID tables and of G_m, whose halves are 32 wide at the default 64</param>
    public FreedomSea(Backend backend, int users, int items, InteractionSet train, CsrMatrix itemGraph, FeatureMatrix image,
        FeatureMatrix text, FreedomSeaOptions options, int layers, Rng rng, int dimension = 64, DType dtype = DType.Float32)
        : this(Heads(backend, options, dimension, dtype, rng), backend, users, items, train, itemGraph, image, text, options, layers, rng, dimension, dtype)
    {
    }

    /// <summary>Takes the heads already drawn: the log lists them before FREEDOM's layers, so they draw from the generator first.</summary>
    private FreedomSea((ProjectHead Text, ProjectHead Image) heads, Backend backend, int users, int items, InteractionSet train,
        CsrMatrix itemGraph, FeatureMatrix image, FeatureMatrix text, FreedomSeaOptions options, int layers, Rng rng, int dimension, DType dtype)
        : base(backend, users, items, train, itemGraph, image, text, options.Freedom, layers, rng, dimension, dtype)
    {
        this.options = options;
        (textHead, imageHead) = heads;
        half = dimension / 2;
        club = new ClubEstimator(backend, half, options.ClubHidden, options.ClubLearningRate, dtype, rng);
    }

    private static (ProjectHead, ProjectHead) Heads(Backend backend, FreedomSeaOptions options, int dimension, DType dtype, Rng rng)
    {
        if (dimension < 2 || dimension % 2 != 0)
            throw new ArgumentException($"FREEDOM+SEA splits its {dimension}-wide projections in halves: the width must be even");
        return (new ProjectHead(backend, dimension / 2, options.ProjectionHidden, options.ProjectionOut, dtype, rng, "t_proj"),
            new ProjectHead(backend, dimension / 2, options.ProjectionHidden, options.ProjectionOut, dtype, rng, "v_proj"));
    }

    public override string Name => "freedom-sea";

    public override IReadOnlyList<Var> Parameters => [.. textHead.Parameters, .. imageHead.Parameters, .. base.Parameters];

    /// <summary>CLUB's network, trained by its own optimiser inside every batch.</summary>
    public IReadOnlyList<Var> ClubParameters => club.Parameters;

    /// <summary>Draws CLUB's permutations; part of the training state.</summary>
    public Rng PermutationRng => club.PermutationRng;

    /// <summary>FREEDOM's loss plus SEA's terms; the projections are computed even at λ = 0, as SEA's terms act on them.</summary>
    protected override Var ComputeLoss(TrainingBatch batch)
    {
        if (options.Alpha == 0 && options.Beta == 0) return base.ComputeLoss(batch);
        var (text, image) = Projections();
        var loss = FreedomLoss(batch, Options.RegWeight == 0 ? null : (text, image));
        var (textGeneric, textUnique) = (text.SliceColumns(0, half), text.SliceColumns(half, half));
        var (imageGeneric, imageUnique) = (image.SliceColumns(0, half), image.SliceColumns(half, half));

        if (options.Alpha != 0)
        {
            var (textAligned, imageAligned) = (textHead.Forward(textGeneric, training: true), imageHead.Forward(imageGeneric, training: true));
            loss += Term("solosim", Losses.InfoNce(textAligned, imageAligned, options.Temperature) * options.Alpha); // text anchors, image candidates
        }
        if (options.Beta != 0)
        {
            var distance = Distancing.Of(club, options.Distance, (textGeneric, textUnique), (imageGeneric, imageUnique));
            loss += Term(options.Distance == Distance.Club ? "club" : "l2", distance * (options.Beta / 2));
            if (options.Distance == Distance.Club) club.Keep((textGeneric, imageGeneric), (textUnique, imageUnique)); // SEA's released cross-modal pairing
        }
        return loss;
    }

    /// <summary>CLUB's network trains on this batch's detached halves (SEA's trainer).</summary>
    public override void AfterBackward(TrainingBatch batch) => club.Fit(options.ClubSteps);

    /// <summary>FREEDOM's state (parameters, the pruning generator), the heads' running statistics and CLUB's state.</summary>
    public override void VisitState(IStateVisitor visitor)
    {
        base.VisitState(visitor);
        textHead.VisitState(visitor);
        imageHead.VisitState(visitor);
        club.VisitState(visitor);
    }

    public override void Dispose()
    {
        club.Dispose();
        base.Dispose();
    }
}
