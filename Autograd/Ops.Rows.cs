namespace Engine.Autograd;

public static partial class Ops
{
    /// <summary>Rows index[0], index[1], … of x (index: int32 k×1; repeats allowed).</summary>
    public static Var GatherRows(this Var x, Tensor index)
    {
        var y = Tape.Output(NewLike(x, index.Rows, x.Cols), x);
        x.Backend.GatherRows(x.Value, index, y.Value);
        Tape.Record(y, () => x.Backend.ScatterAddRows(y.Grad!, index, x.GradForAccumulation()));
        return y;
    }

    /// <summary>A <paramref name="rows"/>×n result whose row index[i] is the sum of the rows i of x sent there.</summary>
    public static Var ScatterAddRows(this Var x, Tensor index, int rows)
    {
        var y = Tape.Output(NewLike(x, rows, x.Cols), x);
        x.Backend.ScatterAddRows(x.Value, index, y.Value);
        Tape.Record(y, () => x.Backend.GatherRows(y.Grad!, index, AccumulateVia(x)));
        return y;
    }

    /// <summary>[a ‖ b ‖ …]: the parts side by side (equal row counts).</summary>
    public static Var ConcatColumns(params Var[] parts) => Concat(parts, alongColumns: true);

    /// <summary>[a ; b ; …]: the parts stacked (equal column counts).</summary>
    public static Var ConcatRows(params Var[] parts) => Concat(parts, alongColumns: false);

    private static Var Concat(Var[] parts, bool alongColumns)
    {
        if (parts.Length == 0) throw new EngineException(alongColumns ? nameof(ConcatColumns) : nameof(ConcatRows), "nothing to concatenate");
        int rows = alongColumns ? parts[0].Rows : parts.Sum(p => p.Rows);
        int cols = alongColumns ? parts.Sum(p => p.Cols) : parts[0].Cols;
        foreach (var p in parts)
            if (alongColumns ? p.Rows != rows : p.Cols != cols)
                throw new EngineException(alongColumns ? nameof(ConcatColumns) : nameof(ConcatRows),
                    $"parts of shapes {string.Join(", ", parts.Select(q => q.Shape))} do not line up");
        var y = Tape.Output(NewLike(parts[0], rows, cols), parts);
        var backend = parts[0].Backend;
        int offset = 0;
        var offsets = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            var p = parts[i];
            offsets[i] = offset;
            if (alongColumns) backend.CopyBlock(p.Value, 0, 0, y.Value, 0, offset, p.Rows, p.Cols, accumulate: false);
            else backend.CopyBlock(p.Value, 0, 0, y.Value, offset, 0, p.Rows, p.Cols, accumulate: false);
            offset += alongColumns ? p.Cols : p.Rows;
        }
        Tape.Record(y, () =>
        {
            for (int i = 0; i < parts.Length; i++)
            {
                var p = parts[i];
                if (!p.RequiresGrad) continue;
                if (alongColumns) backend.CopyBlock(y.Grad!, 0, offsets[i], p.GradForAccumulation(), 0, 0, p.Rows, p.Cols, accumulate: true);
                else backend.CopyBlock(y.Grad!, offsets[i], 0, p.GradForAccumulation(), 0, 0, p.Rows, p.Cols, accumulate: true);
            }
        });
        return y;
    }

    /// <summary>Columns start … start+count−1 of x.</summary>
    public static Var SliceColumns(this Var x, int start, int count) => Slice(x, 0, start, x.Rows, count);

    /// <summary>Rows start … start+count−1 of x.</summary>
    public static Var SliceRows(this Var x, int start, int count) => Slice(x, start, 0, count, x.Cols);

    private static Var Slice(Var x, int row, int col, int rows, int cols)
    {
        var y = Tape.Output(NewLike(x, rows, cols), x);
        x.Backend.CopyBlock(x.Value, row, col, y.Value, 0, 0, rows, cols, accumulate: false);
        Tape.Record(y, () => x.Backend.CopyBlock(y.Grad!, 0, 0, x.GradForAccumulation(), row, col, rows, cols, accumulate: true));
        return y;
    }

    /// <summary>Each row divided by its L2 norm (clamped below by ε, as PyTorch's F.normalize).</summary>
    public static Var RowL2Normalize(this Var x, double eps = 1e-12)
    {
        var y = Tape.Output(NewLike(x, x.Rows, x.Cols), x);
        x.Backend.RowL2Normalize(x.Value, y.Value, eps);
        Tape.Record(y, () => x.Backend.RowL2NormalizeBackward(x.Value, y.Value, y.Grad!, x.GradForAccumulation(), eps));
        return y;
    }

    /// <summary>The softmax of each row.</summary>
    public static Var SoftmaxRows(this Var x) => Softmax(x, log: false);

    /// <summary>The log-softmax of each row, computed stably.</summary>
    public static Var LogSoftmaxRows(this Var x) => Softmax(x, log: true);

    private static Var Softmax(Var x, bool log)
    {
        var y = Tape.Output(NewLike(x, x.Rows, x.Cols), x);
        x.Backend.SoftmaxRows(x.Value, y.Value, log);
        Tape.Record(y, () => x.Backend.SoftmaxRowsBackward(y.Value, y.Grad!, x.GradForAccumulation(), log));
        return y;
    }

    /// <summary>Batch normalisation in training mode over the rows of x; γ and β are 1×n.</summary>
    public static Var BatchNorm(this Var x, Var gamma, Var beta, double eps = 1e-5) => BatchNorm(x, gamma, beta, out _, out _, eps);

    /// <summary>
    /// As <see cref="BatchNorm(Var, Var, Var, double)"/>, also handing out the batch's statistics (1×n, mean and
    /// 1/sqrt(biased variance + ε)), which live as long as the output; layers keep running statistics from them.
    /// </summary>
    public static Var BatchNorm(this Var x, Var gamma, Var beta, out Tensor mean, out Tensor invStd, double eps = 1e-5)
    {
        var y = Tape.Output(NewLike(x, x.Rows, x.Cols), x, gamma, beta);
        var batchMean = NewLike(x, 1, x.Cols);
        var batchInvStd = NewLike(x, 1, x.Cols);
        x.Backend.BatchNorm(x.Value, gamma.Value, beta.Value, y.Value, batchMean, batchInvStd, eps);
        // The statistics live as long as the output that needs them.
        Tape.Output(batchMean);
        Tape.Output(batchInvStd);
        Tape.Record(y, () => x.Backend.BatchNormBackward(x.Value, gamma.Value, batchMean, batchInvStd, y.Grad!,
            AccumulateVia(x), AccumulateVia(gamma), AccumulateVia(beta)));
        (mean, invStd) = (batchMean, batchInvStd);
        return y;
    }

    /// <summary>
    /// Where a backward that must write a gradient for an input should put it: the input's gradient, or a throwaway
    /// tensor when the input needs none (for backend ops that produce several gradients at once).
    /// </summary>
    private static Tensor AccumulateVia(Var v) =>
        v.RequiresGrad ? v.GradForAccumulation() : Tape.Output(NewLike(v, v.Rows, v.Cols)).Value;
}
