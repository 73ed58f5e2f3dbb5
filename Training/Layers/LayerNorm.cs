using Engine.Autograd;

namespace Engine.Training.Layers;

/// <summary>
/// Layer normalisation over each row (PyTorch's nn.LayerNorm(n)): (x − mean_row) / sqrt(var_row + ε) · γ + β, the
/// variance biased, ε = 1e-5, γ = 1 and β = 0 at first (1 × n each). Composed from autograd ops.
/// </summary>
public sealed class LayerNorm
{
    public const double Eps = 1e-5;

    public LayerNorm(Backend backend, int features, DType dtype, string name)
    {
        var gamma = backend.Allocate(1, features, dtype);
        backend.Fill(gamma, 1);
        Gamma = Var.Parameter(gamma, $"{name}.weight");
        Beta = Var.Parameter(backend.Allocate(1, features, dtype), $"{name}.bias");
    }

    public Var Gamma { get; }
    public Var Beta { get; }
    public IEnumerable<Var> Parameters => [Gamma, Beta];

    public Var Forward(Var x)
    {
        var centred = x - x.Mean(dim: 1);
        var deviation = (centred.Square().Mean(dim: 1) + Eps).Sqrt();
        return centred / deviation * Gamma + Beta;
    }
}
