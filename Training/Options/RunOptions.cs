using Engine.Training.Models;

namespace Engine.Training.Options;

/// <summary>
/// The one table of training options. Each entry's name is both <c>sea train --NAME</c> and a configuration-file key
/// (where <c>_</c> may stand for <c>-</c>); its range is checked wherever a value comes from.
/// </summary>
public static class RunOptions
{
    private static readonly string[] Sea = ["sea"];
    private static readonly string[] Propagating = ["sea", "lightgcn", "freedom", "freedom-sea", "alignrec", "drepmrec"];
    private static readonly string[] LightGcn = ["lightgcn"];
    private static readonly string[] Embedding = ["sea", "lightgcn", "freedom", "vbpr", "vbpr-sea", "freedom-sea", "alignrec", "drepmrec"];
    private static readonly string[] VbprSea = ["vbpr-sea"];
    private static readonly string[] AlignRec = ["alignrec"];
    private static readonly string[] DRepMRec = ["drepmrec"];

    public static IReadOnlyList<RunOption> All { get; } =
    [
        new RunOption<string>("model", "the model to train (drepmrec is our reconstruction: its authors released no code)", string.Join("|", RunConfig.Models), (given, text) => OptionValues.Choice(given, text, RunConfig.Models),
            c => c.Model, (c, v) => c with { Model = v }, v => v, defaultFor: _ => new RunConfig().Model),
        new RunOption<string?>("data", "a MMRec dataset folder", "PATH", (_, text) => text, c => c.Data, (c, v) => c with { Data = v }, v => v,
            defaultFor: _ => "the built-in synthetic dataset with semi-synthetic features"),
        new RunOption<string?>("mm-features", "AlignRec: a .npy of fused multimodal item features (one row per item, any width) in place of the dataset's mm_feat.npy",
            "PATH", (_, text) => text, c => c.MultimodalFeatures, (c, v) => c with { MultimodalFeatures = v }, v => v, AlignRec,
            defaultFor: _ => "the dataset's mm_feat.npy"),
        Int("epochs", "at most this many epochs", ValidRange.AtLeast(1), c => c.Epochs, (c, v) => c with { Epochs = v },
            resumeMayChange: true, defaultFor: _ => "1000 (10 on the built-in dataset)"),
        Int("patience", "early stopping: epochs without a better valid Recall@20 before stopping", ValidRange.NonNegative,
            c => c.Patience, (c, v) => c with { Patience = v }, resumeMayChange: true, defaultFor: m => RunConfig.DefaultsOf(m).Patience.ToString()),
        Real("lr", "Adam's learning rate", ValidRange.Positive, c => c.LearningRate, (c, v) => c with { LearningRate = v },
            defaultFor: m => RunOption.Format(RunConfig.DefaultsOf(m).LearningRate)),
        Real("lr-factor", "learning-rate schedule (MMRec's): lr · factor^(epoch/step); 1 keeps it constant", ValidRange.Positive,
            c => c.LearningRateFactor, (c, v) => c with { LearningRateFactor = v }, defaultFor: m => RunOption.Format(RunConfig.DefaultsOf(m).LearningRateFactor)),
        Int("lr-step", "epochs per factor of the learning-rate schedule", ValidRange.AtLeast(1), c => c.LearningRateStep, (c, v) => c with { LearningRateStep = v }),
        Int("batch", "training pairs per batch", ValidRange.AtLeast(1), c => c.Batch, (c, v) => c with { Batch = v }),
        new RunOption<ulong>("seed", "seed of initialisation and sampling", "N", OptionValues.Seed, c => c.Seed, (c, v) => c with { Seed = v }, v => v.ToString()),
        Int("layers", "propagation layers over the user–item graph", ValidRange.Between(0, 16), c => c.Layers, (c, v) => c with { Layers = v }, Propagating),
        Int("dimension", "embedding width (VBPR and VBPR+SEA: the item ID table's; VBPR+SEA and FREEDOM+SEA split their projections in halves, so even)", ValidRange.AtLeast(1),
            c => c.Dimension, (c, v) => c with { Dimension = v }, Embedding),
        Real("reg", "the model's reg_weight (MMRec's name): LightGCN's embedding penalty; FREEDOM's and FREEDOM+SEA's λ, the weight of the two modality BPR terms; " +
                    "VBPR's and VBPR+SEA's λ, the weight of EmbLoss on the batch's rows; AlignRec's and DRepMRec's L2 penalty on the batch's final embeddings",
            ValidRange.NonNegative,
            For("lightgcn", c => c.Reg, (c, v) => c with { Reg = v }),
            For("freedom", c => c.Freedom.RegWeight, (c, v) => c with { Freedom = c.Freedom with { RegWeight = v } }),
            For("vbpr", c => c.Vbpr.RegWeight, (c, v) => c with { Vbpr = c.Vbpr with { RegWeight = v } }),
            For("vbpr-sea", c => c.VbprSea.RegWeight, (c, v) => c with { VbprSea = c.VbprSea with { RegWeight = v } }),
            For("alignrec", c => c.AlignRec.RegWeight, (c, v) => c with { AlignRec = c.AlignRec with { RegWeight = v } }),
            For("drepmrec", c => c.DRepMRec.RegWeight, (c, v) => c with { DRepMRec = c.DRepMRec with { RegWeight = v } }),
            For("freedom-sea", c => c.FreedomSea.Freedom.RegWeight,
                (c, v) => c with { FreedomSea = c.FreedomSea with { Freedom = c.FreedomSea.Freedom with { RegWeight = v } } })),
        Real("edge-dropout", "FREEDOM, FREEDOM+SEA: share of training edges pruned (degree-sensitively) before every epoch; 0 trains on the full graph",
            ValidRange.Between(0, 1) with { MaxOpen = true }, For("freedom", c => c.Freedom.EdgeDropout, (c, v) => c with { Freedom = c.Freedom with { EdgeDropout = v } }),
            For("freedom-sea", c => c.FreedomSea.Freedom.EdgeDropout,
                (c, v) => c with { FreedomSea = c.FreedomSea with { Freedom = c.FreedomSea.Freedom with { EdgeDropout = v } } })),
        Enum("reg-form", "LightGCN's penalty: squared (EVAL.md) or norm (MMRec's code)", c => c.RegForm, (c, v) => c with { RegForm = v }, LightGcn),
        Real("alpha", "SEA, VBPR+SEA, FREEDOM+SEA: weight of the SoloSim alignment (InfoNCE)", ValidRange.NonNegative,
            For("sea", c => c.Sea.Alpha, (c, v) => c with { Sea = c.Sea with { Alpha = v } }),
            For("vbpr-sea", c => c.VbprSea.Alpha, (c, v) => c with { VbprSea = c.VbprSea with { Alpha = v } }),
            For("freedom-sea", c => c.FreedomSea.Alpha, (c, v) => c with { FreedomSea = c.FreedomSea with { Alpha = v } })),
        Real("beta", "SEA, FREEDOM+SEA: weight of the distancing term (β/2 per modality); VBPR+SEA: CLUB's weight (β/2 per modality)", ValidRange.NonNegative,
            For("sea", c => c.Sea.Beta, (c, v) => c with { Sea = c.Sea with { Beta = v } }),
            For("vbpr-sea", c => c.VbprSea.Beta, (c, v) => c with { VbprSea = c.VbprSea with { Beta = v } }),
            For("freedom-sea", c => c.FreedomSea.Beta, (c, v) => c with { FreedomSea = c.FreedomSea with { Beta = v } })),
        Real("mse-weight", "VBPR+SEA: c, the weight of the released −MSE distancing (c/2 per modality), used with --distance l2", ValidRange.NonNegative,
            For("vbpr-sea", c => c.VbprSea.MseWeight, (c, v) => c with { VbprSea = c.VbprSea with { MseWeight = v } })),
        Real("tau", "InfoNCE temperature (SEA's, VBPR+SEA's and FREEDOM+SEA's SoloSim; AlignRec's and DRepMRec's in-batch alignments)", ValidRange.Between(1e-3, 100),
            For("sea", c => c.Sea.Temperature, (c, v) => c with { Sea = c.Sea with { Temperature = v } }),
            For("vbpr-sea", c => c.VbprSea.Temperature, (c, v) => c with { VbprSea = c.VbprSea with { Temperature = v } }),
            For("alignrec", c => c.AlignRec.Temperature, (c, v) => c with { AlignRec = c.AlignRec with { Temperature = v } }),
            For("drepmrec", c => c.DRepMRec.Temperature, (c, v) => c with { DRepMRec = c.DRepMRec with { Temperature = v } }),
            For("freedom-sea", c => c.FreedomSea.Temperature, (c, v) => c with { FreedomSea = c.FreedomSea with { Temperature = v } })),
        Int("knn-k", "neighbours per item in the item–item graph (at most the item count)", ValidRange.AtLeast(1),
            For("sea", c => c.Sea.KnnK, (c, v) => c with { Sea = c.Sea with { KnnK = v } }),
            For("freedom", c => c.Freedom.KnnK, (c, v) => c with { Freedom = c.Freedom with { KnnK = v } }),
            For("alignrec", c => c.AlignRec.KnnK, (c, v) => c with { AlignRec = c.AlignRec with { KnnK = v } }),
            For("drepmrec", c => c.DRepMRec.KnnK, (c, v) => c with { DRepMRec = c.DRepMRec with { KnnK = v } }),
            For("freedom-sea", c => c.FreedomSea.Freedom.KnnK, (c, v) => c with { FreedomSea = c.FreedomSea with { Freedom = c.FreedomSea.Freedom with { KnnK = v } } })),
        Real("image-weight", "weight of the image kNN graph in the item–item graph (text gets 1 − w)", ValidRange.Fraction,
            For("sea", c => c.Sea.ImageWeight, (c, v) => c with { Sea = c.Sea with { ImageWeight = v } }),
            For("freedom", c => c.Freedom.ImageWeight, (c, v) => c with { Freedom = c.Freedom with { ImageWeight = v } }),
            For("freedom-sea", c => c.FreedomSea.Freedom.ImageWeight,
                (c, v) => c with { FreedomSea = c.FreedomSea with { Freedom = c.FreedomSea.Freedom with { ImageWeight = v } } })),
        Enum("club-pairing", "SEA: the pairs the CLUB network is fitted on: released (cross-modal) or paper (generic → unique)",
            c => c.Sea.ClubPairing, (c, v) => c with { Sea = c.Sea with { ClubPairing = v } }, Sea),
        Enum("distance", "SEA, VBPR+SEA, FREEDOM+SEA: distancing between generic and unique halves: club or l2 (−MSE)",
            For("sea", c => c.Sea.Distance, (c, v) => c with { Sea = c.Sea with { Distance = v } }),
            For("vbpr-sea", c => c.VbprSea.Distance, (c, v) => c with { VbprSea = c.VbprSea with { Distance = v } }),
            For("freedom-sea", c => c.FreedomSea.Distance, (c, v) => c with { FreedomSea = c.FreedomSea with { Distance = v } })),
        Int("club-steps", "SEA, VBPR+SEA, FREEDOM+SEA: Adam steps of the CLUB network per batch", ValidRange.Between(0, 10_000),
            For("sea", c => c.Sea.ClubSteps, (c, v) => c with { Sea = c.Sea with { ClubSteps = v } }),
            For("vbpr-sea", c => c.VbprSea.ClubSteps, (c, v) => c with { VbprSea = c.VbprSea with { ClubSteps = v } }),
            For("freedom-sea", c => c.FreedomSea.ClubSteps, (c, v) => c with { FreedomSea = c.FreedomSea with { ClubSteps = v } })),
        Real("dropout", "VBPR+SEA: dropout on the user and item tables", ValidRange.Between(0, 1) with { MaxOpen = true },
            c => c.VbprSea.Dropout, (c, v) => c with { VbprSea = c.VbprSea with { Dropout = v } }, VbprSea),
        Bool("eval-dropout", "VBPR+SEA: dropout also at evaluation, as the released code (random scores); false evaluates without",
            c => c.VbprSea.DropoutAtEvaluation, (c, v) => c with { VbprSea = c.VbprSea with { DropoutAtEvaluation = v } }, VbprSea),
        Enum("eval-embeddings", "SEA: rank with a fresh forward (recompute) or the last training forward (last-forward, as the released code)",
            c => c.Sea.EvalEmbeddings, (c, v) => c with { Sea = c.Sea with { EvalEmbeddings = v } }, Sea),
        Bool("reassociate", "SEA: compute the first layers reassociated (fast); false computes them as written, for checking",
            c => c.Sea.Reassociate, (c, v) => c with { Sea = c.Sea with { Reassociate = v } }, Sea),
        Real("cl-weight", "AlignRec: λ_cl, weight of the in-batch InfoNCE between its modal and behaviour embeddings", ValidRange.NonNegative,
            c => c.AlignRec.ContrastWeight, (c, v) => c with { AlignRec = c.AlignRec with { ContrastWeight = v } }, AlignRec),
        Real("uia-weight", "AlignRec: weight of the user–item alignment 1 − mean cos(user, positive item)", ValidRange.NonNegative,
            c => c.AlignRec.UserItemAlignmentWeight, (c, v) => c with { AlignRec = c.AlignRec with { UserItemAlignmentWeight = v } }, AlignRec),
        Bool("layer-norm", "AlignRec: LayerNorm over the multimodal features before their projection (the code's --use_ln, off in its scripts)",
            c => c.AlignRec.LayerNorm, (c, v) => c with { AlignRec = c.AlignRec with { LayerNorm = v } }, AlignRec),
        Bool("warmup-ui", "AlignRec: for the first 10 epochs train without BPR and the user–item alignment, the learning rate scaled by epoch/10 " +
                          "(the code's --warmup_ui, off in its scripts)",
            c => c.AlignRec.WarmupUserItem, (c, v) => c with { AlignRec = c.AlignRec with { WarmupUserItem = v } }, AlignRec),
        Real("sim-weight", "weight of the similarity term ‖H Hᵀ − C‖_F / B keeping modal embeddings near the original features' cosines (AlignRec's λ_sim, DRepMRec's λ_S)",
            ValidRange.NonNegative,
            For("alignrec", c => c.AlignRec.SimilarityWeight, (c, v) => c with { AlignRec = c.AlignRec with { SimilarityWeight = v } }),
            For("drepmrec", c => c.DRepMRec.SimilarityWeight, (c, v) => c with { DRepMRec = c.DRepMRec with { SimilarityWeight = v } })),
        Real("intra-weight", "DRepMRec: λ_intra, weight of the InfoNCE of the same user or item across the behaviour and modal lines", ValidRange.NonNegative,
            c => c.DRepMRec.IntraWeight, (c, v) => c with { DRepMRec = c.DRepMRec with { IntraWeight = v } }, DRepMRec),
        Real("inter-weight", "DRepMRec: λ_inter, weight of the InfoNCE of users against their positive items across the lines", ValidRange.NonNegative,
            c => c.DRepMRec.InterWeight, (c, v) => c with { DRepMRec = c.DRepMRec with { InterWeight = v } }, DRepMRec),
        Enum("gate", "DRepMRec: the modal filter gate: self (X ⊙ σ(G·X)) or purifier (AlignRec's E_i ⊙ σ(G·X))",
            c => c.DRepMRec.Gate, (c, v) => c with { DRepMRec = c.DRepMRec with { Gate = v } }, DRepMRec),
        Enum("combine", "DRepMRec: how the modalities' modal embeddings are combined: mean or sum",
            c => c.DRepMRec.Combine, (c, v) => c with { DRepMRec = c.DRepMRec with { Combine = v } }, DRepMRec),
        Bool("train-features", "DRepMRec: train the copies of the image and text features (false keeps them constant)",
            c => c.DRepMRec.TrainFeatures, (c, v) => c with { DRepMRec = c.DRepMRec with { TrainFeatures = v } }, DRepMRec),
    ];

    /// <summary>The entry for a name as typed on a command line or in a file (any case, <c>_</c> for <c>-</c>, leading dashes allowed).</summary>
    public static RunOption? Find(string name)
    {
        string key = name.Trim().TrimStart('-').ToLowerInvariant().Replace('_', '-');
        return All.FirstOrDefault(o => o.Name == key);
    }

    /// <summary>Options in the order to apply them: the model first, as which model a run trains decides what its other options mean.</summary>
    public static IEnumerable<T> ModelFirst<T>(IEnumerable<T> entries, Func<T, string> name) =>
        entries.OrderBy(e => Find(name(e))?.Name == "model" ? 0 : 1);

    /// <summary>Refuses the first value in <paramref name="config"/> outside its option's range, naming the option.</summary>
    public static void Check(RunConfig config)
    {
        foreach (var option in All) option.Check(config);
    }

    private static RunOption<int> Int(string name, string help, ValidRange range, Func<RunConfig, int> get, Func<RunConfig, int, RunConfig> set,
        IReadOnlyList<string>? models = null, bool resumeMayChange = false, Func<string, string>? defaultFor = null) =>
        new(name, help, range.Hint("N"), (given, text) => OptionValues.Int(given, text, range), get, set, v => v.ToString(), models, resumeMayChange, defaultFor);

    private static RunOption<int?> Int(string name, string help, ValidRange range, Func<RunConfig, int?> get, Func<RunConfig, int?, RunConfig> set,
        IReadOnlyList<string>? models = null, bool resumeMayChange = false, Func<string, string>? defaultFor = null) =>
        new(name, help, range.Hint("N"), (given, text) => OptionValues.Int(given, text, range), get, set, v => v?.ToString(), models, resumeMayChange, defaultFor);

    private static RunOption<double> Real(string name, string help, ValidRange range, Func<RunConfig, double> get, Func<RunConfig, double, RunConfig> set,
        IReadOnlyList<string>? models = null, Func<string, string>? defaultFor = null) =>
        new(name, help, range.Hint("X"), (given, text) => OptionValues.Real(given, text, range), get, set, RunOption.Format, models, defaultFor: defaultFor);

    private static RunOption<double?> Real(string name, string help, ValidRange range, Func<RunConfig, double?> get, Func<RunConfig, double?, RunConfig> set,
        IReadOnlyList<string>? models = null, Func<string, string>? defaultFor = null) =>
        new(name, help, range.Hint("X"), (given, text) => OptionValues.Real(given, text, range), get, set, v => v is { } x ? RunOption.Format(x) : null, models, defaultFor: defaultFor);

    /// <summary>Where one model keeps an option's value: options that several models read map to each model's own field.</summary>
    private sealed record Field<T>(string Model, Func<RunConfig, T> Get, Func<RunConfig, T, RunConfig> Set);

    private static Field<T> For<T>(string model, Func<RunConfig, T> get, Func<RunConfig, T, RunConfig> set) => new(model, get, set);

    private static Field<T> Of<T>(RunConfig c, Field<T>[] fields) =>
        fields.FirstOrDefault(f => f.Model == c.Model) ?? throw new ArgumentException($"{c.Model} has no such option");

    /// <summary>
    /// Sets the field of the config's model. A model without one keeps its config: the value has been parsed and
    /// range-checked by then, and whether the model reads the option is the caller's question (<see cref="RunOption.AppliesTo"/>),
    /// which a command line answers with "does not read this option" and a grid file's check of every value does not ask.
    /// </summary>
    private static Func<RunConfig, T, RunConfig> SetOf<T>(Field<T>[] fields) =>
        (c, v) => fields.FirstOrDefault(f => f.Model == c.Model) is { } field ? field.Set(c, v) : c;

    private static RunOption<int> Int(string name, string help, ValidRange range, params Field<int>[] fields) =>
        Int(name, help, range, c => Of(c, fields).Get(c), SetOf(fields), fields.Select(f => f.Model).ToArray());

    private static RunOption<double> Real(string name, string help, ValidRange range, params Field<double>[] fields) =>
        Real(name, help, range, c => Of(c, fields).Get(c), SetOf(fields), fields.Select(f => f.Model).ToArray());

    private static RunOption<bool> Bool(string name, string help, Func<RunConfig, bool> get, Func<RunConfig, bool, RunConfig> set, IReadOnlyList<string>? models = null) =>
        new(name, help, "true|false", OptionValues.Bool, get, set, v => v ? "true" : "false", models);

    private static RunOption<T> Enum<T>(string name, string help, params Field<T>[] fields) where T : struct, System.Enum =>
        Enum(name, help, c => Of(c, fields).Get(c), SetOf(fields), fields.Select(f => f.Model).ToArray());

    private static RunOption<T> Enum<T>(string name, string help, Func<RunConfig, T> get, Func<RunConfig, T, RunConfig> set, IReadOnlyList<string>? models = null)
        where T : struct, System.Enum =>
        new(name, help, string.Join("|", OptionValues.Names<T>()), OptionValues.Enum<T>, get, set, OptionValues.Name, models);
}
