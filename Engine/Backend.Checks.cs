namespace Engine;

// What each backend implements, and the argument checks the public ops share.
public abstract partial class Backend
{
    protected abstract TensorStorage AllocateCore(long length, DType dtype);
    protected abstract void UploadCore<T>(ReadOnlySpan<T> src, Tensor dst) where T : unmanaged;
    protected abstract void DownloadCore<T>(Tensor src, Span<T> dst) where T : unmanaged;
    protected abstract void CopyCore(Tensor src, Tensor dst);
    protected abstract void FillCore(Tensor t, double value);
    protected abstract void UnaryCore(UnaryOp op, Tensor x, Tensor y, double alpha);
    protected abstract void UnaryBackwardCore(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, double alpha);
    protected abstract void BinaryCore(BinaryOp op, Tensor a, Tensor b, Tensor y);
    protected abstract void BinaryBackwardCore(BinaryOp op, Tensor a, Tensor b, Tensor dy, Tensor? da, Tensor? db);
    protected abstract void AddScaledCore(Tensor x, double alpha, Tensor y);
    protected abstract void ReduceCore(ReduceOp op, Tensor x, Tensor y, int? dim);
    protected abstract void ReduceBackwardCore(ReduceOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, int? dim);
    protected abstract void LogSumExpRowsCore(Tensor x, Tensor y);
    protected abstract void LogSumExpRowsBackwardCore(Tensor x, Tensor y, Tensor dy, Tensor dx);
    protected abstract void GemmCore(bool transA, bool transB, double alpha, Tensor a, Tensor b, double beta, Tensor c);
    protected abstract void SpmmCore(CsrMatrix a, Tensor x, double beta, Tensor y);
    protected abstract void GatherRowsCore(Tensor src, Tensor index, Tensor dst);
    protected abstract void ScatterAddRowsCore(Tensor src, Tensor index, Tensor dst);
    protected abstract void CopyBlockCore(Tensor src, int srcRow, int srcCol, Tensor dst, int dstRow, int dstCol, int rows, int cols, bool accumulate);
    protected abstract void RowL2NormalizeCore(Tensor x, Tensor y, double eps);
    protected abstract void RowL2NormalizeBackwardCore(Tensor x, Tensor y, Tensor dy, Tensor dx, double eps);
    protected abstract void SoftmaxRowsCore(Tensor x, Tensor y, bool log);
    protected abstract void SoftmaxRowsBackwardCore(Tensor y, Tensor dy, Tensor dx, bool log);
    protected abstract void BatchNormCore(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd, double eps);
    protected abstract void BatchNormBackwardCore(Tensor x, Tensor gamma, Tensor mean, Tensor invStd, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta);
    protected abstract void TopKRowsCore(Tensor scores, Tensor? maskRowPtr, Tensor? maskCols, int k, Tensor result);
    protected abstract void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, double weightDecay, int step);

    private static string Shapes(Tensor[] ts) => string.Join(", ", ts.Select(t => t.Shape));

    /// <summary>Every tensor lives on this backend and has not been freed.</summary>
    protected void Own(string op, params Tensor[] ts)
    {
        foreach (var t in ts)
        {
            if (!ReferenceEquals(t.Backend, this))
                throw new EngineException(op, $"a {t.Shape} tensor is on {t.Device} ({t.Backend.Name}), but this op runs on {Device} ({Name})");
            if (t.IsDisposed)
                throw new EngineException(op, $"a {t.Shape} tensor was used after it was disposed");
        }
    }

    private void Floating(string op, params Tensor[] ts)
    {
        Own(op, ts);
        foreach (var t in ts)
            if (!t.DType.IsFloating())
                throw new EngineException(op, $"expected float32 or float64 tensors, got a {t.DType.Name()} {t.Shape} tensor");
    }

    private static void SameDType(string op, params Tensor[] ts)
    {
        foreach (var t in ts)
            if (t.DType != ts[0].DType)
                throw new EngineException(op, $"dtypes differ: {string.Join(", ", ts.Select(x => $"{x.Shape} {x.DType.Name()}"))}");
    }

    private static void SameShape(string op, params Tensor[] ts)
    {
        foreach (var t in ts)
            if (!t.SameShape(ts[0]))
                throw new EngineException(op, $"shapes differ: {Shapes(ts)}");
    }

    private static void CheckConvertible(string op, DType from, DType to)
    {
        if (from != to && !(from.IsFloating() && to.IsFloating()))
            throw new EngineException(op, $"cannot convert {from.Name()} to {to.Name()}");
    }

    private static void CheckBroadcast(string op, Tensor a, Tensor b)
    {
        bool ok = (b.Rows == a.Rows || b.Rows == 1) && (b.Cols == a.Cols || b.Cols == 1);
        if (!ok)
            throw new EngineException(op, $"b ({b.Shape}) does not broadcast to a ({a.Shape}): b must be {a.Rows}×{a.Cols}, 1×{a.Cols}, {a.Rows}×1 or 1×1");
    }

    private static void CheckReducedShape(string op, Tensor x, Tensor y, int? dim)
    {
        var (rows, cols) = dim switch
        {
            null => (1, 1),
            0 => (1, x.Cols),
            1 => (x.Rows, 1),
            _ => throw new EngineException(op, $"dim must be null, 0 or 1, got {dim}"),
        };
        if (y.Rows != rows || y.Cols != cols)
            throw new EngineException(op, $"reducing {x.Shape} over {(dim is null ? "all" : $"dim {dim}")} gives {rows}×{cols}, but the output is {y.Shape}");
    }

    private void CheckRowIndex(string op, Tensor table, Tensor index, Tensor rows)
    {
        Own(op, table, index, rows);
        Floating(op, table, rows);
        SameDType(op, table, rows);
        if (index.DType != DType.Int32 || index.Cols != 1)
            throw new EngineException(op, $"the index must be an int32 k×1 tensor, got {index.DType.Name()} {index.Shape}");
        if (rows.Rows != index.Rows || rows.Cols != table.Cols)
            throw new EngineException(op, $"table {table.Shape}, index {index.Shape}, rows {rows.Shape}: expected rows {index.Rows}×{table.Cols}");
    }

    private static void CheckBatchNorm(string op, Tensor x, params Tensor[] stats)
    {
        foreach (var s in stats)
            if (s.Rows != 1 || s.Cols != x.Cols)
                throw new EngineException(op, $"x is {x.Shape}, so γ, β and the statistics must be 1×{x.Cols}; got {s.Shape}");
        if (x.Rows == 0)
            throw new EngineException(op, "batch normalisation of an empty batch is undefined");
    }
}
