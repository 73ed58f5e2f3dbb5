namespace Engine.Autograd;

/// <summary>What a gradient check found for one case.</summary>
/// <param name="Name">The case checked.</param>
/// <param name="Checked">How many partial derivatives were compared.</param>
/// <param name="MaxAbsError">The largest |analytic − numeric| seen.</param>
/// <param name="Mismatches">The first mismatching entries, described; empty when the case passed.</param>
public sealed record GradCheckResult(string Name, int Checked, double MaxAbsError, IReadOnlyList<string> Mismatches)
{
    public bool Passed => Mismatches.Count == 0;
}

/// <summary>
/// Compares the gradients the tape computes with central differences, (f(x + h) − f(x − h)) / 2h, one element at a
/// time, in float64 (in float32 the differences are noise). An entry passes when
/// |analytic − numeric| ≤ atol + rtol·|numeric|.
/// </summary>
public static class GradCheck
{
    public const double DefaultStep = 1e-6;
    public const double DefaultRelativeTolerance = 1e-5;
    public const double DefaultAbsoluteTolerance = 1e-7;
    private const int MismatchesReported = 5;

    /// <summary>
    /// Checks ∂loss/∂v for every v in <paramref name="inputs"/>. <paramref name="loss"/> recomputes the 1×1 loss from
    /// the inputs' current values; it is called once on a tape and twice per element under no-grad.
    /// </summary>
    public static GradCheckResult Check(string name, Func<Var> loss, IReadOnlyList<Var> inputs,
        double step = DefaultStep, double rtol = DefaultRelativeTolerance, double atol = DefaultAbsoluteTolerance)
    {
        foreach (var v in inputs)
        {
            if (v.DType != DType.Float64)
                throw new EngineException(nameof(GradCheck), $"input {v.Name ?? v.Shape} is {v.DType.Name()}: gradient checks run in float64");
            if (!v.RequiresGrad)
                throw new EngineException(nameof(GradCheck), $"input {v.Name ?? v.Shape} does not require a gradient");
        }

        var analytic = new double[inputs.Count][];
        using (var tape = Tape.Begin())
        {
            foreach (var v in inputs) v.ZeroGrad();
            tape.Backward(loss());
            for (int i = 0; i < inputs.Count; i++)
                analytic[i] = inputs[i].Grad?.ToArray<double>() ?? new double[inputs[i].Value.Length];
        }

        var mismatches = new List<string>();
        double maxAbsError = 0;
        int checkedCount = 0;
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                var v = inputs[i];
                var values = v.Value.ToArray<double>();
                for (int e = 0; e < values.Length; e++)
                {
                    double original = values[e];
                    double plus = Evaluate(loss, v, values, e, original + step);
                    double minus = Evaluate(loss, v, values, e, original - step);
                    values[e] = original;
                    v.Backend.Upload<double>(values, v.Value);

                    double numeric = (plus - minus) / (2 * step);
                    double error = Math.Abs(analytic[i][e] - numeric);
                    maxAbsError = Math.Max(maxAbsError, double.IsNaN(error) ? double.PositiveInfinity : error);
                    checkedCount++;
                    if (!(error <= atol + rtol * Math.Abs(numeric)) && mismatches.Count < MismatchesReported)
                        mismatches.Add($"{v.Name ?? $"input {i}"}[{e / v.Cols}, {e % v.Cols}]: analytic {analytic[i][e]:G10}, numeric {numeric:G10}");
                }
            }
        }
        return new GradCheckResult(name, checkedCount, maxAbsError, mismatches);
    }

    private static double Evaluate(Func<Var> loss, Var v, double[] values, int element, double value)
    {
        values[element] = value;
        v.Backend.Upload<double>(values, v.Value);
        using var scope = Tape.Begin(); // frees the evaluation's intermediates
        using var noGrad = Tape.NoGrad();
        return loss().Value.Item();
    }

    /// <summary>
    /// Σ y ⊙ w for a fixed random w: reduces an op's output to a scalar whose gradient exercises every entry of the
    /// op's Jacobian with a different weight (a plain sum would hide errors that cancel).
    /// </summary>
    public static Var Probe(Var y, Tensor weights) => (y * Var.Constant(weights)).Sum();
}
