namespace Engine.Autograd;

public static partial class Ops
{
    /// <summary>op(a)·op(b), where op transposes when asked.</summary>
    public static Var MatMul(this Var a, Var b, bool transA = false, bool transB = false)
    {
        int m = transA ? a.Cols : a.Rows, n = transB ? b.Rows : b.Cols;
        var y = Tape.Output(NewLike(a, m, n), a, b);
        a.Backend.Gemm(transA, transB, 1, a.Value, b.Value, 0, y.Value);
        Tape.Record(y, () =>
        {
            var backend = a.Backend;
            // y = op(a)·op(b): d op(a) = dy·op(b)ᵀ and d op(b) = op(a)ᵀ·dy, written back through the transposes.
            if (a.RequiresGrad)
            {
                if (transA) backend.Gemm(transB, true, 1, b.Value, y.Grad!, 1, a.GradForAccumulation());
                else backend.Gemm(false, !transB, 1, y.Grad!, b.Value, 1, a.GradForAccumulation());
            }
            if (b.RequiresGrad)
            {
                if (transB) backend.Gemm(true, transA, 1, y.Grad!, a.Value, 1, b.GradForAccumulation());
                else backend.Gemm(!transA, false, 1, a.Value, y.Grad!, 1, b.GradForAccumulation());
            }
        });
        return y;
    }

    /// <summary>
    /// A·x for a constant sparse matrix A. The backward multiplies by Aᵀ, built once and kept by A, so it adds in a
    /// fixed order (never a transposed sparse product, whose order may vary on a GPU).
    /// </summary>
    public static Var Spmm(this CsrMatrix a, Var x)
    {
        var y = Tape.Output(NewLike(x, a.Rows, x.Cols), x);
        x.Backend.Spmm(a, x.Value, 0, y.Value);
        Tape.Record(y, () => x.Backend.Spmm(a.Transpose(), y.Grad!, 1, x.GradForAccumulation()));
        return y;
    }
}
