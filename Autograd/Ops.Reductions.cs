namespace Engine.Autograd;

public static partial class Ops
{
    /// <summary>Σ over everything (1×1), over rows (dim 0: 1×n) or over columns (dim 1: m×1).</summary>
    public static Var Sum(this Var x, int? dim = null) => Reduce(ReduceOp.Sum, x, dim);

    /// <summary>The mean over everything, over rows (dim 0) or over columns (dim 1).</summary>
    public static Var Mean(this Var x, int? dim = null) => Reduce(ReduceOp.Mean, x, dim);

    /// <summary>The maximum over everything, over rows (dim 0) or over columns (dim 1); its gradient goes to the first maximal element.</summary>
    public static Var Max(this Var x, int? dim = null) => Reduce(ReduceOp.Max, x, dim);

    private static Var Reduce(ReduceOp op, Var x, int? dim)
    {
        var (rows, cols) = dim switch { null => (1, 1), 0 => (1, x.Cols), _ => (x.Rows, 1) };
        var y = Tape.Output(NewLike(x, rows, cols), x);
        x.Backend.Reduce(op, x.Value, y.Value, dim);
        Tape.Record(y, () => x.Backend.ReduceBackward(op, x.Value, y.Value, y.Grad!, x.GradForAccumulation(), dim));
        return y;
    }

    /// <summary>log Σ_j exp(x_ij) for each row (m×1), computed stably.</summary>
    public static Var LogSumExpRows(this Var x)
    {
        var y = Tape.Output(NewLike(x, x.Rows, 1), x);
        x.Backend.LogSumExpRows(x.Value, y.Value);
        Tape.Record(y, () => x.Backend.LogSumExpRowsBackward(x.Value, y.Value, y.Grad!, x.GradForAccumulation()));
        return y;
    }
}
