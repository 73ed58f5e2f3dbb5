namespace Engine.Training;

/// <summary>Parameter initialisations with PyTorch's definitions, drawn from the engine's seeded generator.</summary>
public static class Init
{
    /// <summary>
    /// Xavier (Glorot) uniform: U(−b, b) with b = sqrt(6 / (fan_in + fan_out)). For a rows×cols table, as PyTorch
    /// reads a 2-D weight, fan_in = cols and fan_out = rows.
    /// </summary>
    public static Tensor XavierUniform(Backend backend, int rows, int cols, DType dtype, Rng rng)
    {
        double bound = Math.Sqrt(6.0 / (rows + cols));
        return backend.Uniform(rows, cols, dtype, rng, -bound, bound);
    }

    /// <summary>Xavier (Glorot) normal: N(0, 2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Backend backend, int rows, int cols, DType dtype, Rng rng) =>
        backend.Normal(rows, cols, dtype, rng, 0, Math.Sqrt(2.0 / (rows + cols)));

    /// <summary>PyTorch's nn.Linear default for weights and biases: U(−1/sqrt(fan_in), 1/sqrt(fan_in)).</summary>
    public static Tensor LinearDefault(Backend backend, int rows, int cols, int fanIn, DType dtype, Rng rng)
    {
        double bound = 1 / Math.Sqrt(fanIn);
        return backend.Uniform(rows, cols, dtype, rng, -bound, bound);
    }
}
