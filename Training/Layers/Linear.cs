using Engine.Autograd;
using Engine.Training.Checkpoints;

namespace Engine.Training.Layers;

/// <summary>How a <see cref="Linear"/> layer's parameters start.</summary>
public enum LinearInit
{
    /// <summary>PyTorch's nn.Linear default: weight and bias U(−1/sqrt(in), 1/sqrt(in)).</summary>
    PyTorchDefault,

    /// <summary>MMRec's xavier_normal_initialization pass (common/init.py): weight Xavier normal, bias 0.</summary>
    XavierNormal,
}

/// <summary>
/// A fully connected layer y = x·Wᵀ + b with PyTorch's shapes (W is out × in, b is 1 × out), initialised as
/// <see cref="LinearInit"/> says (PyTorch's default unless told otherwise).
/// </summary>
public sealed class Linear
{
    public Linear(Backend backend, int inFeatures, int outFeatures, DType dtype, Rng rng, string name, LinearInit init = LinearInit.PyTorchDefault)
    {
        var (weight, bias) = init == LinearInit.XavierNormal
            ? (Init.XavierNormal(backend, outFeatures, inFeatures, dtype, rng), backend.Allocate(1, outFeatures, dtype))
            : (Init.LinearDefault(backend, outFeatures, inFeatures, inFeatures, dtype, rng), Init.LinearDefault(backend, 1, outFeatures, inFeatures, dtype, rng));
        Weight = Var.Parameter(weight, $"{name}.weight");
        Bias = Var.Parameter(bias, $"{name}.bias");
    }

    public Var Weight { get; }
    public Var Bias { get; }
    public int In => Weight.Cols;
    public int Out => Weight.Rows;
    public IEnumerable<Var> Parameters => [Weight, Bias];

    public Var Forward(Var x) => x.MatMul(Weight, transB: true) + Bias;

    /// <summary>The same layer with its parameters cut off from the graph (used where gradients must not reach them).</summary>
    public Var ForwardDetached(Var x) => x.MatMul(Weight.Detach(), transB: true) + Bias.Detach();
}

/// <summary>
/// Batch normalisation with learnable γ (init 1) and β (init 0), 1 × n, and PyTorch's running statistics (mean 0 and
/// variance 1 at first). Training mode normalises with the batch's mean and biased variance and moves the running
/// ones towards the batch's (the variance unbiased) by <see cref="Momentum"/>; evaluation mode normalises with the
/// running ones. The running statistics are state, not parameters: <see cref="VisitState"/> walks them.
/// </summary>
public sealed class BatchNorm
{
    public const double Momentum = 0.1;
    public const double Eps = 1e-5;
    private readonly string name;

    public BatchNorm(Backend backend, int features, DType dtype, string name)
    {
        this.name = name;
        var gamma = backend.Allocate(1, features, dtype);
        backend.Fill(gamma, 1);
        Gamma = Var.Parameter(gamma, $"{name}.gamma");
        Beta = Var.Parameter(backend.Allocate(1, features, dtype), $"{name}.beta");
        RunningMean = backend.Allocate(1, features, dtype);
        RunningVariance = backend.Allocate(1, features, dtype);
        backend.Fill(RunningVariance, 1);
    }

    public Var Gamma { get; }
    public Var Beta { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVariance { get; }
    public IEnumerable<Var> Parameters => [Gamma, Beta];

    public Var Forward(Var x, bool training)
    {
        if (!training)
            return (x - Var.Constant(RunningMean)) * (Gamma / (Var.Constant(RunningVariance) + Eps).Sqrt()) + Beta;
        if (x.Rows < 2) throw new ArgumentException($"batch normalisation '{name}' in training mode needs at least 2 rows, got {x.Rows}");
        var y = x.BatchNorm(Gamma, Beta, out var mean, out var invStd, Eps);
        UpdateRunningStatistics(mean, invStd, x.Rows);
        return y;
    }

    public void VisitState(IStateVisitor visitor)
    {
        visitor.Tensor($"{name}.running_mean", RunningMean);
        visitor.Tensor($"{name}.running_var", RunningVariance);
    }

    /// <summary>running ← (1 − momentum)·running + momentum·batch, on the backend; the variance from invStd = 1/sqrt(var + ε).</summary>
    private void UpdateRunningStatistics(Tensor mean, Tensor invStd, int rows)
    {
        var b = mean.Backend;
        b.Unary(UnaryOp.Scale, RunningMean, RunningMean, 1 - Momentum);
        b.AddScaled(mean, Momentum, RunningMean);

        using var variance = b.Allocate(1, invStd.Cols, invStd.DType);
        b.Fill(variance, 1);
        using (var squared = b.Allocate(1, invStd.Cols, invStd.DType))
        {
            b.Unary(UnaryOp.Square, invStd, squared);
            b.Binary(BinaryOp.Div, variance, squared, variance);
        }
        b.Unary(UnaryOp.AddScalar, variance, variance, -Eps); // the biased batch variance
        b.Unary(UnaryOp.Scale, RunningVariance, RunningVariance, 1 - Momentum);
        b.AddScaled(variance, Momentum * rows / (rows - 1.0), RunningVariance); // unbiased, as PyTorch keeps it
    }
}
