using Engine.Autograd;

namespace Engine.Training.Layers;

/// <summary>
/// A fully connected layer y = x·Wᵀ + b with PyTorch's shapes (W is out × in, b is 1 × out) and its default
/// initialisation, U(−1/sqrt(in), 1/sqrt(in)) for both.
/// </summary>
public sealed class Linear
{
    public Linear(Backend backend, int inFeatures, int outFeatures, DType dtype, Rng rng, string name)
    {
        Weight = Var.Parameter(Init.LinearDefault(backend, outFeatures, inFeatures, inFeatures, dtype, rng), $"{name}.weight");
        Bias = Var.Parameter(Init.LinearDefault(backend, 1, outFeatures, inFeatures, dtype, rng), $"{name}.bias");
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

/// <summary>Batch normalisation in training mode with learnable γ (init 1) and β (init 0), 1 × n.</summary>
public sealed class BatchNorm
{
    public BatchNorm(Backend backend, int features, DType dtype, string name)
    {
        var gamma = backend.Allocate(1, features, dtype);
        backend.Fill(gamma, 1);
        Gamma = Var.Parameter(gamma, $"{name}.gamma");
        Beta = Var.Parameter(backend.Allocate(1, features, dtype), $"{name}.beta");
    }

    public Var Gamma { get; }
    public Var Beta { get; }
    public IEnumerable<Var> Parameters => [Gamma, Beta];

    public Var Forward(Var x) => x.BatchNorm(Gamma, Beta);
}
