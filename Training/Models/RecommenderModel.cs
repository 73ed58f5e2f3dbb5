using Engine.Autograd;
using Engine.Training.Checkpoints;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>
/// A model the trainer can fit and the evaluator can rank with. Scores are inner products of user and item
/// representations, so ranking needs only the two tables of <see cref="RankingEmbeddings"/>.
/// </summary>
public abstract class RecommenderModel : IDisposable
{
    public abstract string Name { get; }

    /// <summary>A caveat that goes with every result of the model (metrics.json's note), e.g. that it is a reconstruction; null if none.</summary>
    public virtual string? Note => null;

    /// <summary>What the model's optimiser updates; empty for models that are not trained (MostPop).</summary>
    public virtual IReadOnlyList<Var> Parameters => [];

    /// <summary>The 1×1 training loss of one batch, recorded on the current tape; its parts are in <see cref="LossTerms"/>.</summary>
    public Var Loss(TrainingBatch batch)
    {
        terms.Clear();
        return ComputeLoss(batch);
    }

    /// <summary>
    /// The named parts of the last <see cref="Loss"/> (e.g. bpr, reg), each already weighted so that they sum to the
    /// loss. They live on the same tape as the loss; the trainer reads them for the logs and the numerical guard.
    /// </summary>
    public IReadOnlyList<(string Name, Var Value)> LossTerms => terms;

    private readonly List<(string Name, Var Value)> terms = [];

    protected abstract Var ComputeLoss(TrainingBatch batch);

    /// <summary>Records <paramref name="value"/> as the loss term <paramref name="name"/> and returns it.</summary>
    protected Var Term(string name, Var value)
    {
        terms.Add((name, value));
        return value;
    }

    /// <summary>
    /// Walks everything a checkpoint must hold to continue training exactly: the parameters (by name) and, in
    /// models that have them, extra state such as SEA's CLUB network, its optimiser and its random generator.
    /// </summary>
    public virtual void VisitState(IStateVisitor visitor)
    {
        foreach (var p in Parameters)
            visitor.Tensor(p.Name ?? throw new InvalidOperationException($"{Name} has a parameter without a name: it cannot be checkpointed"), p.Value);
    }

    /// <summary>
    /// Runs before epoch <paramref name="epoch"/>'s first batch (epochs count from 1), also the first epoch after a
    /// resume: FREEDOM draws its pruned graph here. State it draws from must be in <see cref="VisitState"/>.
    /// </summary>
    public virtual void BeforeEpoch(int epoch)
    {
    }

    /// <summary>
    /// A factor on epoch <paramref name="epoch"/>'s learning rate (epochs count from 1), on top of the run's schedule:
    /// AlignRec's warm-up ramps it up.
    /// </summary>
    public virtual double LearningRateScale(int epoch) => 1;

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

    /// <summary>The distinct values of <paramref name="ids"/>, first seen first, and where each id is among them: ids[k] = distinct[slots[k]].</summary>
    protected static (int[] Distinct, int[] Slots) Distinct(int[] ids)
    {
        var distinct = new List<int>();
        var position = new Dictionary<int, int>();
        var slots = new int[ids.Length];
        for (int k = 0; k < ids.Length; k++)
        {
            if (!position.TryGetValue(ids[k], out slots[k]))
            {
                position[ids[k]] = slots[k] = distinct.Count;
                distinct.Add(ids[k]);
            }
        }
        return (distinct.ToArray(), slots);
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
