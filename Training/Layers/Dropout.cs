using Engine.Autograd;

namespace Engine.Training.Layers;

/// <summary>
/// Inverted dropout: each element is zeroed with probability p and the survivors are scaled by 1/(1 − p), so the
/// expectation is unchanged. Masks are drawn on the host from <see cref="Rng"/>, the layer's own seeded generator,
/// which is training state (a checkpoint must hold it).
/// </summary>
public sealed class Dropout
{
    public Dropout(double probability, Rng rng)
    {
        if (!(probability is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(probability), probability, "dropout must be in [0, 1)");
        Probability = probability;
        Rng = rng;
    }

    public double Probability { get; }
    public Rng Rng { get; }

    /// <summary>x times a fresh mask (x itself when p = 0, drawing nothing).</summary>
    public Var Apply(Var x)
    {
        if (Probability == 0) return x;
        double keep = 1 / (1 - Probability);
        var mask = new double[(long)x.Rows * x.Cols];
        for (long i = 0; i < mask.Length; i++) mask[i] = Rng.NextDouble() < Probability ? 0 : keep;
        return x * Var.Constant(Tape.Scoped(x.Backend.FromDoubles(mask, x.Rows, x.Cols, x.DType)));
    }
}
