using Engine.Autograd;
using Engine.Training.Checkpoints;

namespace Engine.Training.Layers;

/// <summary>
/// SEA's projection head (MODELS.md §0.5), used by SEA and its plug-ins: Linear in→hidden, BatchNorm, ReLU,
/// Linear hidden→hidden, BatchNorm, ReLU, Linear hidden→out, then every row scaled to unit L2 norm. Parameters are
/// named as PyTorch's nn.Sequential numbers its modules: name.0, .1, .3, .4, .6.
/// </summary>
public sealed class ProjectHead
{
    private readonly BatchNorm norm1, norm2;
    private readonly Linear middle, last;

    public ProjectHead(Backend backend, int inFeatures, int hidden, int outFeatures, DType dtype, Rng rng, string name,
        LinearInit init = LinearInit.PyTorchDefault)
    {
        First = new Linear(backend, inFeatures, hidden, dtype, rng, $"{name}.0", init);
        norm1 = new BatchNorm(backend, hidden, dtype, $"{name}.1");
        middle = new Linear(backend, hidden, hidden, dtype, rng, $"{name}.3", init);
        norm2 = new BatchNorm(backend, hidden, dtype, $"{name}.4");
        last = new Linear(backend, hidden, outFeatures, dtype, rng, $"{name}.6", init);
    }

    /// <summary>The first Linear, for callers that compute it themselves (SEA folds it into one GEMM with the layer before).</summary>
    public Linear First { get; }

    public IEnumerable<Var> Parameters =>
        [.. First.Parameters, .. norm1.Parameters, .. middle.Parameters, .. norm2.Parameters, .. last.Parameters];

    /// <summary>The head of x; <paramref name="training"/> picks the batch normalisations' mode.</summary>
    public Var Forward(Var x, bool training) => AfterFirst(First.Forward(x), training);

    /// <summary>The rest of the head, given the first Linear's output.</summary>
    public Var AfterFirst(Var hidden, bool training)
    {
        var z = norm1.Forward(hidden, training).Relu();
        z = norm2.Forward(middle.Forward(z), training).Relu();
        return last.Forward(z).RowL2Normalize();
    }

    /// <summary>The batch normalisations' running statistics (the parameters are walked with the model's).</summary>
    public void VisitState(IStateVisitor visitor)
    {
        norm1.VisitState(visitor);
        norm2.VisitState(visitor);
    }
}
