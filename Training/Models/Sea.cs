using Engine.Autograd;
using Engine.Training.Checkpoints;
using Engine.Training.Data;
using Engine.Training.Layers;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>
/// SEA (He et al. 2024, "It is Never Too Late to Mend: Separate Learning for Multimedia Recommendation") as its
/// released code computes it; shared/spec/SEA.md is the reference for every formula here. Each modality's projected
/// features E_m = W_m(F_m) are split into a generic half, aligned across modalities by SoloSim (an InfoNCE), and a
/// unique half, pushed away from the generic one by a CLUB upper bound of their mutual information. Recommendation
/// itself is a two-modality LightGCN-style propagation plus one hop over an item–item graph, trained with BPR.
/// </summary>
public sealed class Sea : RecommenderModel
{
    private readonly SeaOptions options;
    private readonly CsrMatrix adjacency;
    private readonly CsrMatrix itemGraph;
    private readonly Modality image;
    private readonly Modality text;
    private readonly Var userModalityWeights;
    private readonly ClubEstimator club;
    private readonly int users;
    private readonly int items;
    private (Tensor Users, Tensor Items)? lastForward;

    public Sea(Backend backend, int users, int items, CsrMatrix adjacency, CsrMatrix itemGraph, FeatureMatrix imageFeatures,
        FeatureMatrix textFeatures, SeaOptions options, Rng rng, DType dtype = DType.Float32)
    {
        if (adjacency.Rows != users + items) throw new ArgumentException($"the adjacency has {adjacency.Rows} nodes, not {users} users + {items} items");
        if (itemGraph.Rows != items) throw new ArgumentException($"the item graph has {itemGraph.Rows} rows, not {items}");
        this.options = options;
        this.adjacency = adjacency;
        this.itemGraph = itemGraph;
        this.users = users;
        this.items = items;
        image = new Modality("image", backend, users, imageFeatures, options, dtype, rng);
        text = new Modality("text", backend, users, textFeatures, options, dtype, rng);
        userModalityWeights = Var.Parameter(SoftmaxedXavierNormal(backend, users, dtype, rng), "user_modality_weights");
        club = new ClubEstimator(backend, options.MiWidth, options.ClubHidden, options.ClubLearningRate, dtype, rng);
    }

    public override string Name => "sea";
    public SeaOptions Options => options;

    /// <summary>Draws CLUB's permutation of the items at every evaluation of the bound; part of the training state.</summary>
    public Rng PermutationRng => club.PermutationRng;

    public override IReadOnlyList<Var> Parameters =>
        [.. image.Parameters, .. text.Parameters, userModalityWeights];

    /// <summary>The CLUB network's parameters, trained by their own optimiser inside every batch.</summary>
    public IReadOnlyList<Var> ClubParameters => club.Parameters;

    protected override Var ComputeLoss(TrainingBatch batch)
    {
        var backend = userModalityWeights.Backend;
        var v = image.Forward(adjacency, options, training: true);
        var t = text.Forward(adjacency, options, training: true);
        var (user, item) = Combine(v, t);
        if (options.EvalEmbeddings == EvalEmbeddings.LastForward) KeepForRanking(user, item);

        var u = user.GatherRows(Index(backend, batch.Users));
        var positive = (u * item.GatherRows(Index(backend, batch.PositiveItems))).Sum(dim: 1);
        var negative = (u * item.GatherRows(Index(backend, batch.NegativeItems))).Sum(dim: 1);
        var loss = Term("bpr", Losses.Bpr(positive, negative, base2: true));

        if (options.Alpha != 0)
            loss += Term("solosim", Losses.InfoNce(t.Alignment, v.Alignment, options.Temperature) * options.Alpha); // text anchors, image candidates
        if (options.Beta != 0)
        {
            var distance = Distancing.Of(club, options.Distance, (t.Generic, t.Unique), (v.Generic, v.Unique));
            loss += Term(options.Distance == Distance.Club ? "club" : "l2", distance * (options.Beta / 2));
            if (options.Distance == Distance.Club) KeepClubPairs(v, t);
        }
        return loss;
    }

    /// <summary>The model's parameters, the heads' running statistics, then CLUB's network, its optimiser and the generator of its permutations.</summary>
    public override void VisitState(IStateVisitor visitor)
    {
        base.VisitState(visitor);
        image.Head.VisitState(visitor);
        text.Head.VisitState(visitor);
        club.VisitState(visitor);
    }

    /// <summary>The CLUB network's own training, on this batch's detached representations (SEA.md's order).</summary>
    public override void AfterBackward(TrainingBatch batch) => club.Fit(options.ClubSteps);

    public override (Tensor Users, Tensor Items) RankingEmbeddings()
    {
        if (options.EvalEmbeddings == EvalEmbeddings.LastForward && lastForward is { } kept)
            return (kept.Users.Clone(), kept.Items.Clone());
        using var scope = Tape.Begin();
        using var noGrad = Tape.NoGrad();
        var (user, item) = Combine(image.Forward(adjacency, options, training: false), text.Forward(adjacency, options, training: false));
        return (user.Value.Clone(), item.Value.Clone());
    }

    /// <summary>
    /// Items: H = [R_image(items) ‖ R_text(items)] plus one hop over the item graph, H + S·H. Users: each modality's
    /// propagated embedding weighted by the user's own modality weight, side by side.
    /// </summary>
    private (Var User, Var Item) Combine(ModalityOutput v, ModalityOutput t)
    {
        var h = Ops.ConcatColumns(v.Propagated.SliceRows(users, items), t.Propagated.SliceRows(users, items));
        var item = h + itemGraph.Spmm(h);
        var user = Ops.ConcatColumns(
            v.Propagated.SliceRows(0, users) * userModalityWeights.SliceColumns(0, 1),
            t.Propagated.SliceRows(0, users) * userModalityWeights.SliceColumns(1, 1));
        return (user, item);
    }

    /// <summary>Hands CLUB the detached pairs q is fitted on in <see cref="AfterBackward"/>.</summary>
    private void KeepClubPairs(ModalityOutput v, ModalityOutput t)
    {
        if (options.ClubPairing == ClubPairing.Released) club.Keep((t.Generic, v.Generic), (t.Unique, v.Unique));
        else club.Keep((v.Generic, v.Unique), (t.Generic, t.Unique));
    }

    private void KeepForRanking(Var user, Var item)
    {
        if (lastForward is { } old) { old.Users.Dispose(); old.Items.Dispose(); }
        lastForward = (user.Value.Clone(), item.Value.Clone());
    }

    /// <summary>Xavier normal U×2, then a softmax over each row's two entries, once (afterwards the weights are free).</summary>
    private static Tensor SoftmaxedXavierNormal(Backend backend, int users, DType dtype, Rng rng)
    {
        using var raw = Init.XavierNormal(backend, users, 2, dtype, rng);
        var weights = backend.Allocate(users, 2, dtype);
        backend.SoftmaxRows(raw, weights, log: false);
        return weights;
    }

    public override void Dispose()
    {
        club.Dispose();
        if (lastForward is { } kept) { kept.Users.Dispose(); kept.Items.Dispose(); }
        base.Dispose();
    }

    /// <summary>What one modality contributes: its propagated embeddings, SoloSim input, and CLUB's x and y.</summary>
    private sealed record ModalityOutput(Var Propagated, Var Alignment, Var Generic, Var Unique);

    /// <summary>One modality's parameters (SEA.md's table) and forward pass.</summary>
    private sealed class Modality
    {
        private readonly Var features;
        // W_m and its bias as two parameters, the rows that make the generic half of E and those that make the unique
        // half, so that the consumers of one half multiply by its rows without copying them out of W_m.
        private readonly Var genericWeight, genericBias, uniqueWeight, uniqueBias;
        private readonly Linear mlpIn, mlpOut, genericTrans, uniqueTrans;
        private readonly Var preference;
        private readonly int half;

        public Modality(string name, Backend backend, int users, FeatureMatrix f, SeaOptions o, DType dtype, Rng rng)
        {
            if (f.Cols < 2 || f.Cols % 2 != 0) throw new ArgumentException($"{name} features must have an even width to split in halves, got {f.Cols}");
            half = f.Cols / 2;
            features = Var.Constant(f.ToTensor(backend, dtype), $"{name}.features");
            (genericWeight, genericBias, uniqueWeight, uniqueBias) = SplitPreProjection(backend, f.Cols, dtype, rng, $"{name}.pre_projection");
            mlpIn = new Linear(backend, f.Cols, o.MlpHidden, dtype, rng, $"{name}.mlp.0");
            mlpOut = new Linear(backend, o.MlpHidden, o.Embedding, dtype, rng, $"{name}.mlp.2");
            preference = Var.Parameter(Init.XavierNormal(backend, users, o.Embedding, dtype, rng), $"{name}.user_preference");
            Head = new ProjectHead(backend, half, o.ProjectionHidden, o.ProjectionOut, dtype, rng, $"{name}.proj");
            genericTrans = new Linear(backend, half, o.MiWidth, dtype, rng, $"{name}.generic_trans");
            uniqueTrans = new Linear(backend, half, o.MiWidth, dtype, rng, $"{name}.unique_trans");
        }

        /// <summary>SoloSim's projection head, on the generic half.</summary>
        public ProjectHead Head { get; }

        public IEnumerable<Var> Parameters =>
        [
            genericWeight, genericBias, uniqueWeight, uniqueBias, .. mlpIn.Parameters, .. mlpOut.Parameters, preference, .. Head.Parameters,
            .. genericTrans.Parameters, .. uniqueTrans.Parameters,
        ];

        /// <summary>The modality's outputs; <paramref name="training"/> is the head's batch-normalisation mode.</summary>
        public ModalityOutput Forward(CsrMatrix adjacency, SeaOptions o, bool training)
        {
            var (mlpHidden, alignHidden, generic, unique) = o.Reassociate ? FirstLayersReassociated() : FirstLayersPlain();

            var itemEmbeddings = mlpOut.Forward(mlpHidden.LeakyRelu(0.01));
            var x = Ops.ConcatRows(preference, itemEmbeddings).RowL2Normalize();
            var propagated = x;
            var layer = x;
            for (int l = 0; l < o.Layers; l++)
            {
                layer = adjacency.Spmm(layer);
                propagated += layer; // the sum of layers 0..L, not their mean
            }

            return new ModalityOutput(propagated, Head.AfterFirst(alignHidden, training), generic, unique);
        }

        /// <summary>
        /// W_m drawn whole, as PyTorch's Linear draws it (so the generator's sequence is unchanged), then cut into the
        /// rows of the generic half and those of the unique half.
        /// </summary>
        private static (Var, Var, Var, Var) SplitPreProjection(Backend backend, int width, DType dtype, Rng rng, string name)
        {
            var whole = new Linear(backend, width, width, dtype, rng, name);
            int half = width / 2;
            // One half of the weight (its rows) or of the bias (its columns), as a parameter of its own.
            Var Half(Var x, int start, string part)
            {
                bool bias = x.Rows == 1;
                var h = backend.Allocate(bias ? 1 : half, bias ? half : width, dtype);
                backend.CopyBlock(x.Value, bias ? 0 : start, bias ? start : 0, h, 0, 0, h.Rows, h.Cols, accumulate: false);
                return Var.Parameter(h, $"{name}.{part}");
            }
            var split = (Half(whole.Weight, 0, "generic.weight"), Half(whole.Bias, 0, "generic.bias"),
                Half(whole.Weight, half, "unique.weight"), Half(whole.Bias, half, "unique.bias"));
            whole.Weight.Value.Dispose();
            whole.Bias.Value.Dispose();
            return split;
        }

        /// <summary>As written: E = W(F) as its generic and unique halves, each consumer applied to its part of E.</summary>
        private (Var Mlp, Var Align, Var Generic, Var Unique) FirstLayersPlain()
        {
            var genericHalf = features.MatMul(genericWeight, transB: true) + genericBias;
            var uniqueHalf = features.MatMul(uniqueWeight, transB: true) + uniqueBias;
            var e = Ops.ConcatColumns(genericHalf, uniqueHalf);
            return (mlpIn.Forward(e), Head.First.Forward(genericHalf), genericTrans.Forward(genericHalf), uniqueTrans.Forward(uniqueHalf));
        }

        /// <summary>
        /// The same four outputs without forming E. A consumer y = E_half·Aᵀ + a of one half E_half = F·W_halfᵀ + b_half
        /// equals F·(A·W_half)ᵀ + (b_half·Aᵀ + a); the MLP reads both halves, so its A is cut into the columns that
        /// meet each half and its map is the sum of the two. The consumers' maps are stacked into one (Σ outputs) × D
        /// map and F is multiplied by it once. Autograd differentiates this composition like any other, so the
        /// gradients of W, b and every A are the plain path's, up to rounding.
        /// </summary>
        private (Var Mlp, Var Align, Var Generic, Var Unique) FirstLayersReassociated()
        {
            var (mlpGeneric, mlpUnique) = (mlpIn.Weight.SliceColumns(0, half), mlpIn.Weight.SliceColumns(half, half));
            (Var Map, Var Bias)[] consumers =
            [
                (mlpGeneric.MatMul(genericWeight) + mlpUnique.MatMul(uniqueWeight),
                    genericBias.MatMul(mlpGeneric, transB: true) + uniqueBias.MatMul(mlpUnique, transB: true) + mlpIn.Bias),
                OnHalf(Head.First, genericWeight, genericBias),
                OnHalf(genericTrans, genericWeight, genericBias),
                OnHalf(uniqueTrans, uniqueWeight, uniqueBias),
            ];
            var all = features.MatMul(Ops.ConcatRows([.. consumers.Select(c => c.Map)]), transB: true)
                      + Ops.ConcatColumns([.. consumers.Select(c => c.Bias)]);
            int offset = 0;
            var outputs = new Var[consumers.Length];
            for (int c = 0; c < consumers.Length; c++)
            {
                outputs[c] = all.SliceColumns(offset, consumers[c].Map.Rows);
                offset += consumers[c].Map.Rows;
            }
            return (outputs[0], outputs[1], outputs[2], outputs[3]);

            static (Var Map, Var Bias) OnHalf(Linear layer, Var weight, Var bias) =>
                (layer.Weight.MatMul(weight), bias.MatMul(layer.Weight, transB: true) + layer.Bias);
        }
    }
}
