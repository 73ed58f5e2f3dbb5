using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Cpu;

public sealed partial class CpuBackend
{
    protected override void SpmmCore(CsrMatrix a, Tensor x, double beta, Tensor y)
    {
        if (x.DType == DType.Float32) Spmm(a, Data<float>(a.Values), Data<float>(x), (float)beta, Data<float>(y), x.Cols);
        else Spmm(a, Data<double>(a.Values), Data<double>(x), beta, Data<double>(y), x.Cols);
    }

    private static void Spmm<T>(CsrMatrix a, T[] values, T[] x, T beta, T[] y, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int[] rowPtr = Data<int>(a.RowPtr), colIdx = Data<int>(a.ColIdx);
        // Rows are independent, and each adds its entries in column order: parallel and deterministic.
        ForRows(a.Rows, Math.Max(cols, a.NonZeros / Math.Max(1, a.Rows) * cols), r =>
        {
            var yr = y.AsSpan(r * cols, cols);
            if (beta == T.Zero) yr.Clear();
            else if (beta != T.One) TensorPrimitives.Multiply(yr, beta, yr);
            int done = AddRowsInRegisters(values, colIdx, rowPtr[r], rowPtr[r + 1], x, yr);
            for (int e = rowPtr[r]; e < rowPtr[r + 1]; e++)
                Axpy(values[e], x.AsSpan(colIdx[e] * cols + done, cols - done), yr[done..]);
        });
    }

    /// <summary>
    /// y += Σ values[e]·x[colIdx[e]] over the row's non-zeros, for y's columns in blocks of four vectors held in
    /// registers across all the non-zeros, and returns how many columns that covered (the rest is left to Axpy). Adding
    /// straight into y instead loads and stores y's row at every non-zero, and each of those waits for the previous
    /// store: a cost per non-zero that does not shrink with the element size. Each element adds its terms in the same
    /// order either way, so the results are the same to the bit.
    /// </summary>
    private static int AddRowsInRegisters<T>(T[] values, int[] colIdx, int start, int end, T[] x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Vector256.IsHardwareAccelerated) return 0;
        int n = Vector256<T>.Count, block = 4 * n, cols = y.Length, c = 0;
        ref T ys = ref MemoryMarshal.GetReference(y);
        for (; c <= cols - block; c += block)
        {
            var y0 = Vector256.LoadUnsafe(ref ys, (nuint)c);
            var y1 = Vector256.LoadUnsafe(ref ys, (nuint)(c + n));
            var y2 = Vector256.LoadUnsafe(ref ys, (nuint)(c + 2 * n));
            var y3 = Vector256.LoadUnsafe(ref ys, (nuint)(c + 3 * n));
            for (int e = start; e < end; e++)
            {
                var a = Vector256.Create(values[e]);
                ref T xs = ref MemoryMarshal.GetReference(x.AsSpan(colIdx[e] * cols + c, block));
                y0 += a * Vector256.LoadUnsafe(ref xs);
                y1 += a * Vector256.LoadUnsafe(ref xs, (nuint)n);
                y2 += a * Vector256.LoadUnsafe(ref xs, (nuint)(2 * n));
                y3 += a * Vector256.LoadUnsafe(ref xs, (nuint)(3 * n));
            }
            y0.StoreUnsafe(ref ys, (nuint)c);
            y1.StoreUnsafe(ref ys, (nuint)(c + n));
            y2.StoreUnsafe(ref ys, (nuint)(c + 2 * n));
            y3.StoreUnsafe(ref ys, (nuint)(c + 3 * n));
        }
        return c;
    }

    /// <summary>
    /// y += a·x. Inlined vector loop: rows of an embedding table are short (64 wide), so a library call's fixed cost
    /// per non-zero would dominate the product.
    /// </summary>
    private static void Axpy<T>(T a, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var av = Vector256.Create(a);
            ref T xs = ref MemoryMarshal.GetReference(x);
            ref T ys = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                (Vector256.LoadUnsafe(ref ys, (nuint)i) + av * Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
        }
        for (; i < x.Length; i++) y[i] += a * x[i];
    }

    protected override void GatherRowsCore(Tensor src, Tensor index, Tensor dst)
    {
        int[] idx = Data<int>(index);
        CheckIndices(nameof(GatherRows), idx, src.Rows);
        int cols = src.Cols;
        var (s, d) = (((CpuStorage)src.Storage).Data, ((CpuStorage)dst.Storage).Data);
        ForRows(idx.Length, cols, i => Array.Copy(s, (long)idx[i] * cols, d, (long)i * cols, cols));
    }

    protected override void ScatterAddRowsCore(Tensor src, Tensor index, Tensor dst)
    {
        int[] idx = Data<int>(index);
        CheckIndices(nameof(ScatterAddRows), idx, dst.Rows);
        if (src.DType == DType.Float32) ScatterAddRows(Data<float>(src), idx, Data<float>(dst), src.Cols);
        else ScatterAddRows(Data<double>(src), idx, Data<double>(dst), src.Cols);
    }

    // Sequential in row order: repeated indices add up in the same order on every run.
    private static void ScatterAddRows<T>(T[] src, int[] idx, T[] dst, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < idx.Length; i++)
        {
            var target = dst.AsSpan(idx[i] * cols, cols);
            TensorPrimitives.Add(target, src.AsSpan(i * cols, cols), target);
        }
    }

    private static void CheckIndices(string op, int[] idx, int rows)
    {
        for (int i = 0; i < idx.Length; i++)
            if ((uint)idx[i] >= (uint)rows)
                throw new EngineException(op, $"index[{i}] = {idx[i]} is outside the table's {rows} rows");
    }

    protected override void CopyBlockCore(Tensor src, int srcRow, int srcCol, Tensor dst, int dstRow, int dstCol, int rows, int cols, bool accumulate)
    {
        if (src.DType == DType.Float32) CopyBlock(Data<float>(src), src.Cols, srcRow, srcCol, Data<float>(dst), dst.Cols, dstRow, dstCol, rows, cols, accumulate);
        else CopyBlock(Data<double>(src), src.Cols, srcRow, srcCol, Data<double>(dst), dst.Cols, dstRow, dstCol, rows, cols, accumulate);
    }

    private static void CopyBlock<T>(T[] src, int srcStride, int srcRow, int srcCol, T[] dst, int dstStride, int dstRow, int dstCol, int rows, int cols, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ForRows(rows, cols, r =>
        {
            var s = src.AsSpan((srcRow + r) * srcStride + srcCol, cols);
            var d = dst.AsSpan((dstRow + r) * dstStride + dstCol, cols);
            if (accumulate) TensorPrimitives.Add(d, s, d);
            else s.CopyTo(d);
        });
    }

    protected override void RowL2NormalizeCore(Tensor x, Tensor y, double eps)
    {
        if (x.DType == DType.Float32) RowL2Normalize(x, Data<float>(x), Data<float>(y), null, null, (float)eps);
        else RowL2Normalize(x, Data<double>(x), Data<double>(y), null, null, eps);
    }

    protected override void RowL2NormalizeBackwardCore(Tensor x, Tensor y, Tensor dy, Tensor dx, double eps)
    {
        if (x.DType == DType.Float32) RowL2Normalize(x, Data<float>(x), Data<float>(y), Data<float>(dy), Data<float>(dx), (float)eps);
        else RowL2Normalize(x, Data<double>(x), Data<double>(y), Data<double>(dy), Data<double>(dx), eps);
    }

    /// <summary>
    /// Forward (dy, dx null): y = x / max(‖x‖, ε). Backward: dx += (dy − y·⟨dy, y⟩) / ‖x‖ where ‖x‖ &gt; ε, and
    /// dx += dy / ε where the norm was clamped (y = x/ε is then linear in x).
    /// </summary>
    private static void RowL2Normalize<T>(Tensor xt, T[] x, T[] y, T[]? dy, T[]? dx, T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = xt.Cols;
        ForRows(xt.Rows, cols, r =>
        {
            var xr = x.AsSpan(r * cols, cols);
            var yr = y.AsSpan(r * cols, cols);
            T norm = T.Sqrt(TensorPrimitives.Dot(xr, xr));
            if (dy is null || dx is null)
            {
                TensorPrimitives.Divide(xr, T.Max(norm, eps), yr);
                return;
            }
            var dyr = dy.AsSpan(r * cols, cols);
            var dxr = dx.AsSpan(r * cols, cols);
            if (norm <= eps)
            {
                for (int c = 0; c < cols; c++) dxr[c] += dyr[c] / eps;
                return;
            }
            T proj = TensorPrimitives.Dot(dyr, (ReadOnlySpan<T>)yr);
            for (int c = 0; c < cols; c++) dxr[c] += (dyr[c] - yr[c] * proj) / norm;
        });
    }

    protected override void SoftmaxRowsCore(Tensor x, Tensor y, bool log)
    {
        if (x.DType == DType.Float32) SoftmaxRows(x, Data<float>(x), Data<float>(y), log);
        else SoftmaxRows(x, Data<double>(x), Data<double>(y), log);
    }

    /// <summary>
    /// softmax = exp(x − max) / Σ exp(x − max); log-softmax = (x − max) − log Σ exp(x − max). Subtracting a
    /// rounded log-sum-exp instead would cost accuracy in proportion to the size of the largest logit.
    /// </summary>
    private static void SoftmaxRows<T>(Tensor xt, T[] x, T[] y, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = xt.Cols;
        ForRows(xt.Rows, cols, r =>
        {
            var xr = x.AsSpan(r * cols, cols);
            var yr = y.AsSpan(r * cols, cols);
            T max = TensorPrimitives.Max<T>(xr);
            TensorPrimitives.Subtract(xr, max, yr);
            T sum = T.Zero;
            foreach (var v in yr) sum += T.Exp(v);
            if (log)
            {
                TensorPrimitives.Subtract(yr, T.Log(sum), yr);
                return;
            }
            for (int c = 0; c < cols; c++) yr[c] = T.Exp(yr[c]) / sum;
        });
    }

    protected override void SoftmaxRowsBackwardCore(Tensor y, Tensor dy, Tensor dx, bool log)
    {
        if (y.DType == DType.Float32) SoftmaxRowsBackward(y, Data<float>(y), Data<float>(dy), Data<float>(dx), log);
        else SoftmaxRowsBackward(y, Data<double>(y), Data<double>(dy), Data<double>(dx), log);
    }

    /// <summary>softmax: dx += y ⊙ (dy − ⟨dy, y⟩); log-softmax: dx += dy − exp(y) · Σ dy.</summary>
    private static void SoftmaxRowsBackward<T>(Tensor yt, T[] y, T[] dy, T[] dx, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = yt.Cols;
        ForRows(yt.Rows, cols, r =>
        {
            var yr = y.AsSpan(r * cols, cols);
            var dyr = dy.AsSpan(r * cols, cols);
            var dxr = dx.AsSpan(r * cols, cols);
            if (log)
            {
                T total = SumDeterministic<T>(dyr);
                for (int c = 0; c < cols; c++) dxr[c] += dyr[c] - T.Exp(yr[c]) * total;
            }
            else
            {
                T dot = TensorPrimitives.Dot((ReadOnlySpan<T>)dyr, yr);
                for (int c = 0; c < cols; c++) dxr[c] += yr[c] * (dyr[c] - dot);
            }
        });
    }

    protected override void TopKRowsCore(Tensor scores, Tensor? maskRowPtr, Tensor? maskCols, int k, Tensor result)
    {
        Func<int, ReadOnlySpan<int>>? maskOfRow = null;
        if (maskRowPtr is not null && maskCols is not null)
        {
            int[] rowPtr = Data<int>(maskRowPtr), masked = Data<int>(maskCols);
            CheckMask(rowPtr, masked, scores.Cols);
            maskOfRow = r => Ascending(masked.AsSpan(rowPtr[r], rowPtr[r + 1] - rowPtr[r]));
        }
        if (scores.DType == DType.Float32) TopK.SelectRowsInto(Data<float>(scores), scores.Rows, scores.Cols, maskOfRow, k, Data<int>(result));
        else TopK.SelectRowsInto(Data<double>(scores), scores.Rows, scores.Cols, maskOfRow, k, Data<int>(result));
    }

    /// <summary>The values the base class cannot check without reading them: each row's span of columns, and the columns.</summary>
    private static void CheckMask(int[] rowPtr, int[] masked, int cols)
    {
        for (int r = 0; r + 1 < rowPtr.Length; r++)
        {
            int from = rowPtr[r], to = rowPtr[r + 1];
            if (from < 0 || from > to || to > masked.Length)
                throw new EngineException(nameof(TopKRows),
                    $"mask row {r} spans columns {from}..{to}, but row pointers must rise from 0 to at most the mask's {masked.Length} columns");
            for (int e = from; e < to; e++)
                if ((uint)masked[e] >= (uint)cols)
                    throw new EngineException(nameof(TopKRows), $"mask column [{e}] = {masked[e]} (row {r}) is outside the scores' {cols} columns");
        }
    }

    /// <summary>TopK wants a row's masked columns ascending; the contract takes any order, so an unsorted row is sorted in a copy.</summary>
    private static ReadOnlySpan<int> Ascending(ReadOnlySpan<int> masked)
    {
        for (int i = 1; i < masked.Length; i++)
            if (masked[i] < masked[i - 1])
            {
                var sorted = masked.ToArray();
                Array.Sort(sorted);
                return sorted;
            }
        return masked;
    }

    protected override void BatchNormCore(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd, double eps)
    {
        if (x.DType == DType.Float32) BatchNorm(x, Data<float>(x), Data<float>(gamma), Data<float>(beta), Data<float>(y), Data<float>(mean), Data<float>(invStd), (float)eps);
        else BatchNorm(x, Data<double>(x), Data<double>(gamma), Data<double>(beta), Data<double>(y), Data<double>(mean), Data<double>(invStd), eps);
    }

    private static void BatchNorm<T>(Tensor xt, T[] x, T[] gamma, T[] beta, T[] y, T[] mean, T[] invStd, T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = xt.Rows, cols = xt.Cols;
        T count = T.CreateTruncating(rows);
        // Two passes (mean, then the mean of squared deviations) for accuracy; rows folded in order, a row at a time.
        // Vectorised, every element still takes the scalar formula's roundings in its order (no fused multiply-add),
        // so the results are those of the CUDA kernel's formula.
        Array.Clear(mean);
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(mean, x.AsSpan(r * cols, cols), mean);
        TensorPrimitives.Divide(mean, count, mean);
        var variance = new T[cols];
        var deviation = new T[cols];
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Subtract(x.AsSpan(r * cols, cols), mean, deviation);
            TensorPrimitives.Multiply(deviation, deviation, deviation);
            TensorPrimitives.Add(variance, deviation, variance);
        }
        for (int c = 0; c < cols; c++) invStd[c] = T.One / T.Sqrt(variance[c] / count + eps);
        ForChunks(rows, (first, n) =>
        {
            for (int r = first; r < first + n; r++)
            {
                var row = y.AsSpan(r * cols, cols); // γ·(x − mean)·invStd + β
                TensorPrimitives.Subtract(x.AsSpan(r * cols, cols), mean, row);
                TensorPrimitives.Multiply(gamma, row, row);
                TensorPrimitives.Multiply(row, invStd, row);
                TensorPrimitives.Add(row, beta, row);
            }
        }, RowsPerChunk(cols));
    }

    protected override void BatchNormBackwardCore(Tensor x, Tensor gamma, Tensor mean, Tensor invStd, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta)
    {
        if (x.DType == DType.Float32)
            BatchNormBackward(x, Data<float>(x), Data<float>(gamma), Data<float>(mean), Data<float>(invStd), Data<float>(dy), Data<float>(dx), Data<float>(dGamma), Data<float>(dBeta));
        else
            BatchNormBackward(x, Data<double>(x), Data<double>(gamma), Data<double>(mean), Data<double>(invStd), Data<double>(dy), Data<double>(dx), Data<double>(dGamma), Data<double>(dBeta));
    }

    /// <summary>
    /// With x̂ = (x − mean)·invStd: dβ += Σ dy, dγ += Σ dy·x̂, and
    /// dx += γ·invStd/m · (m·dy − Σ dy − x̂·Σ dy·x̂) (sums over the batch, per column).
    /// </summary>
    private static void BatchNormBackward<T>(Tensor xt, T[] x, T[] gamma, T[] mean, T[] invStd, T[] dy, T[] dx, T[] dGamma, T[] dBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = xt.Rows, cols = xt.Cols;
        T count = T.CreateTruncating(rows);
        // A row at a time, vectorised, each element with the scalar formula's roundings in its order (as the forward).
        var sumDy = new T[cols];
        var sumDyXhat = new T[cols];
        var t = new T[cols];
        for (int r = 0; r < rows; r++)
        {
            var g = dy.AsSpan(r * cols, cols);
            TensorPrimitives.Add(sumDy, g, sumDy);
            TensorPrimitives.Subtract(x.AsSpan(r * cols, cols), mean, t); // dy·(x − mean)·invStd
            TensorPrimitives.Multiply(g, t, t);
            TensorPrimitives.Multiply(t, invStd, t);
            TensorPrimitives.Add(sumDyXhat, t, sumDyXhat);
        }
        TensorPrimitives.Add(dBeta, sumDy, dBeta);
        TensorPrimitives.Add(dGamma, sumDyXhat, dGamma);
        var k = new T[cols]; // γ·invStd/m
        TensorPrimitives.Multiply(gamma, invStd, k);
        TensorPrimitives.Divide(k, count, k);
        ForChunks(rows, (first, n) =>
        {
            var xhatTerm = new T[cols];
            var u = new T[cols];
            for (int r = first; r < first + n; r++)
            {
                // dx += k·((m·dy − Σdy) − x̂·Σdy·x̂), x̂ = (x − mean)·invStd
                TensorPrimitives.Subtract(x.AsSpan(r * cols, cols), mean, xhatTerm);
                TensorPrimitives.Multiply(xhatTerm, invStd, xhatTerm);
                TensorPrimitives.Multiply(xhatTerm, sumDyXhat, xhatTerm);
                TensorPrimitives.Multiply(dy.AsSpan(r * cols, cols), count, u);
                TensorPrimitives.Subtract(u, sumDy, u);
                TensorPrimitives.Subtract(u, xhatTerm, u);
                TensorPrimitives.Multiply(k, u, u);
                var d = dx.AsSpan(r * cols, cols);
                TensorPrimitives.Add(d, u, d);
            }
        }, RowsPerChunk(cols));
    }
}
