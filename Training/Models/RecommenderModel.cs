using Engine.Autograd;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>
/// A model the trainer can fit and the evaluator can rank with. Scores are inner products of user and item
/// representations, so ranking needs only the two tables of <see cref="RankingEmbeddings"/>.
/// </summary>
public abstract class RecommenderModel : IDisposable
{
    public abstract string Name { get; }

    /// <summary>What the model's optimiser updates; empty for models that are not trained (MostPop).</summary>
    public virtual IReadOnlyList<Var> Parameters => [];

    /// <summary>The 1×1 training loss of one batch, recorded on the current tape.</summary>
    public abstract Var Loss(TrainingBatch batch);

    /// <summary>Runs after the loss's backward and before the optimiser step (SEA trains its CLUB network here).</summary>
    public virtual void AfterBackward(TrainingBatch batch)
    {
    }

    /// <summary>
    /// Users' (U×d) and items' (I×d) final representations, computed without recording; the caller owns and
    /// disposes them. score(u, i) = ⟨users_u, items_i⟩.
    /// </summary>
    public abstract (Tensor Users, Tensor Items) RankingEmbeddings();

    /// <summary>An int32 k×1 index tensor freed with the current tape.</summary>
    protected static Tensor Index(Backend backend, int[] values) => Tape.Scoped(backend.FromArray(values, values.Length, 1));

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
