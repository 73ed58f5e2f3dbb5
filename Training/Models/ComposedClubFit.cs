using Engine.Autograd;
using Engine.Training.Optim;

namespace Engine.Training.Models;

/// <summary>
/// CLUB's inner loop as SEA.md writes it, composed from autograd ops and <see cref="Adam"/>: q's two branches as
/// Linear/ReLU/Linear (then tanh), the loss Σ_pairs −<see cref="Losses.GaussianLogLikelihood"/>, a backward pass and an
/// Adam step per step. <see cref="Backend.ClubFit"/> does the same in one op; this is the reference it is tested
/// against and benchmarked with.
/// </summary>
public static class ComposedClubFit
{
    /// <summary>
    /// Fits the packed <paramref name="parameters"/> (1×<see cref="ClubLayout.Length"/>) in place for
    /// <paramref name="steps"/> steps from fresh Adam moments, on the stacked pairs x, y; returns the moments, packed.
    /// </summary>
    public static (Tensor First, Tensor Second) Run(Tensor x, Tensor y, int pairs, ClubLayout layout, Tensor parameters, int steps, double lr)
    {
        var backend = x.Backend;
        var values = Unpack(parameters, layout);
        var q = values.Select(v => Var.Parameter(v)).ToArray();
        var adam = new Adam(q, lr);
        int rows = x.Rows / pairs;
        var slices = Enumerable.Range(0, pairs).Select(p => (X: Var.Constant(Rows(x, p * rows, rows)), Y: Var.Constant(Rows(y, p * rows, rows)))).ToArray();
        Var Branch(Var input, int b) =>
            (input.MatMul(q[4 * b], transB: true) + q[4 * b + 1]).Relu().MatMul(q[4 * b + 2], transB: true) + q[4 * b + 3];
        for (int step = 0; step < steps; step++)
        {
            adam.ZeroGrad();
            using var tape = Tape.Begin();
            Var? loss = null;
            foreach (var (px, py) in slices)
            {
                var term = -Losses.GaussianLogLikelihood(Branch(px, 0), Branch(px, 1).Tanh(), py);
                loss = loss is null ? term : loss + term;
            }
            tape.Backward(loss!);
            adam.Step();
        }
        ClubLayout.Pack(values, parameters);
        var first = backend.Allocate(1, layout.Length, x.DType);
        var second = backend.Allocate(1, layout.Length, x.DType);
        ClubLayout.Pack(q.Select((_, i) => adam.Moments(i).First).ToArray(), first);
        ClubLayout.Pack(q.Select((_, i) => adam.Moments(i).Second).ToArray(), second);
        foreach (var t in values) t.Dispose();
        foreach (var (px, py) in slices) { px.Value.Dispose(); py.Value.Dispose(); }
        return (first, second);
    }

    private static Tensor Rows(Tensor t, int start, int count)
    {
        var part = t.Backend.Allocate(count, t.Cols, t.DType);
        t.Backend.CopyBlock(t, start, 0, part, 0, 0, count, t.Cols, accumulate: false);
        return part;
    }

    private static Tensor[] Unpack(Tensor packed, ClubLayout layout)
    {
        var parts = layout.Shapes.Select(shape => packed.Backend.Allocate(shape.Rows, shape.Cols, packed.DType)).ToArray();
        ClubLayout.Unpack(packed, parts);
        return parts;
    }
}
