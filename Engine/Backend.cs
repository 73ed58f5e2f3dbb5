namespace Engine;

/// <summary>
/// The backend contract: every primitive op the engine needs, on tensors of one device.
///
/// Rules that hold for every op, on every backend:
/// <list type="bullet">
/// <item>Forwards overwrite: an op's output tensor is written whole; what it held before is irrelevant.</item>
/// <item>Backwards accumulate: an op's <c>...Backward</c> adds into the gradient tensors it is given (<c>dx += ...</c>),
/// so several consumers of one value may add their parts into one gradient.</item>
/// <item>Outputs are allocated by the caller, with the shape the op documents; nothing is allocated behind its back.</item>
/// <item>All tensors of a call share this backend and a floating dtype (indices are int32).</item>
/// </list>
/// Shapes, dtypes and devices are checked here, once, for every backend; a mismatch throws an
/// <see cref="EngineException"/> naming the op and the shapes. Implementations override the <c>...Core</c> methods
/// and may assume valid arguments.
/// </summary>
public abstract partial class Backend : IDisposable
{
    public abstract string Name { get; }
    public abstract Device Device { get; }

    /// <summary>One line saying what does the work (e.g. which BLAS), for <c>sea info</c> and benchmark reports.</summary>
    public abstract string Description { get; }

    // ---------------------------------------------------------------- counting

    /// <summary>Per-op tallies of calls, FLOPs, bytes and wall time, for benchmarks; off until enabled.</summary>
    public OpCounters Counters { get; } = new();

    private OpCounters.Scope Count(OpKind kind, long flops, long bytes) => Counters.Count(kind, flops, bytes);

    /// <summary>A tensor's size in bytes (0 for a gradient that is not wanted).</summary>
    private static long B(Tensor? t) => t is null ? 0 : t.Length * t.DType.SizeInBytes();

    /// <summary>
    /// SpMM's traffic: row pointers and column indices (int32), the values, one gathered row of x per non-zero, and y
    /// written (and read when β ≠ 0).
    /// </summary>
    private static long SpmmBytes(CsrMatrix a, Tensor x, double beta, Tensor y)
    {
        long nnz = a.NonZeros, size = y.DType.SizeInBytes();
        return (a.Rows + 1L) * sizeof(int) + nnz * sizeof(int) + nnz * size + nnz * x.Cols * size + (beta == 0 ? 1 : 2) * B(y);
    }

    // ---------------------------------------------------------------- memory

    /// <summary>A new zero-filled tensor.</summary>
    public Tensor Allocate(int rows, int cols, DType dtype)
    {
        if (rows < 0 || cols < 0)
            throw new EngineException(nameof(Allocate), $"negative shape {rows}×{cols}");
        // Counted as the zero fill it is: every byte written once.
        using var counted = Count(OpKind.Allocate, 0, (long)rows * cols * dtype.SizeInBytes());
        return new Tensor(this, rows, cols, dtype, AllocateCore((long)rows * cols, dtype));
    }

    /// <summary>A tensor holding <paramref name="data"/> (row-major, <paramref name="rows"/>·<paramref name="cols"/> elements).</summary>
    public Tensor FromArray<T>(T[] data, int rows, int cols) where T : unmanaged
    {
        if ((long)rows * cols != data.Length)
            throw new EngineException(nameof(FromArray), $"{data.Length} elements do not fill {rows}×{cols}");
        var t = Allocate(rows, cols, DTypeExtensions.Of<T>());
        Upload<T>(data, t);
        return t;
    }

    /// <summary>A tensor of <paramref name="dtype"/> holding <paramref name="data"/> converted from double.</summary>
    public Tensor FromDoubles(double[] data, int rows, int cols, DType dtype)
    {
        if ((long)rows * cols != data.Length)
            throw new EngineException(nameof(FromDoubles), $"{data.Length} elements do not fill {rows}×{cols}");
        var t = Allocate(rows, cols, dtype);
        Upload<double>(data, t);
        return t;
    }

    /// <summary>Copies host data into <paramref name="dst"/>, converting between float32 and float64 if they differ.</summary>
    public void Upload<T>(ReadOnlySpan<T> src, Tensor dst) where T : unmanaged
    {
        Own(nameof(Upload), dst);
        if (src.Length != dst.Length)
            throw new EngineException(nameof(Upload), $"{src.Length} host elements for a {dst.Shape} tensor");
        CheckConvertible(nameof(Upload), DTypeExtensions.Of<T>(), dst.DType);
        using var counted = Count(OpKind.Upload, 0, B(dst));
        UploadCore(src, dst);
    }

    /// <summary>Copies <paramref name="src"/> to host memory, converting between float32 and float64 if they differ.</summary>
    public void Download<T>(Tensor src, Span<T> dst) where T : unmanaged
    {
        Own(nameof(Download), src);
        if (dst.Length != src.Length)
            throw new EngineException(nameof(Download), $"{dst.Length} host elements for a {src.Shape} tensor");
        CheckConvertible(nameof(Download), src.DType, DTypeExtensions.Of<T>());
        using var counted = Count(OpKind.Download, 0, B(src));
        DownloadCore(src, dst);
    }

    /// <summary>dst = src (same shape and dtype).</summary>
    public void Copy(Tensor src, Tensor dst)
    {
        Own(nameof(Copy), src, dst);
        SameDType(nameof(Copy), src, dst);
        SameShape(nameof(Copy), src, dst);
        using var counted = Count(OpKind.Copy, 0, 2 * B(src));
        CopyCore(src, dst);
    }

    /// <summary>Every element of <paramref name="t"/> = <paramref name="value"/>.</summary>
    public void Fill(Tensor t, double value)
    {
        Own(nameof(Fill), t);
        if (t.DType == DType.Int32 && (value != Math.Floor(value) || value < int.MinValue || value > int.MaxValue))
            throw new EngineException(nameof(Fill), $"{value} is not an int32 value, but the {t.Shape} tensor is int32");
        using var counted = Count(OpKind.Fill, 0, B(t));
        FillCore(t, value);
    }

    // ---------------------------------------------------------------- elementwise

    /// <summary>y = op(x), same shape. α is the op's parameter where it has one (see <see cref="UnaryOp"/>).</summary>
    public void Unary(UnaryOp op, Tensor x, Tensor y, double alpha = 0)
    {
        var name = $"{op}";
        Floating(name, x, y);
        SameDType(name, x, y);
        SameShape(name, x, y);
        using var counted = Count(OpKind.Unary, 0, 2 * B(x));
        UnaryCore(op, x, y, alpha);
    }

    /// <summary>dx += dy · op'(x), given the forward's x and y.</summary>
    public void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, double alpha = 0)
    {
        var name = $"{op}Backward";
        Floating(name, x, y, dy, dx);
        SameDType(name, x, y, dy, dx);
        SameShape(name, x, y, dy, dx);
        using var counted = Count(OpKind.UnaryBackward, 0, 5 * B(x));
        UnaryBackwardCore(op, x, y, dy, dx, alpha);
    }

    /// <summary>
    /// y = a op b. <paramref name="a"/> and <paramref name="y"/> are m×n; <paramref name="b"/> is m×n, 1×n (a row
    /// broadcast down every row), m×1 (a column broadcast along every column) or 1×1.
    /// </summary>
    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        var name = $"{op}";
        Floating(name, a, b, y);
        SameDType(name, a, b, y);
        SameShape(name, a, y);
        CheckBroadcast(name, a, b);
        using var counted = Count(OpKind.Binary, 0, 2 * B(a) + B(b));
        BinaryCore(op, a, b, y);
    }

    /// <summary>
    /// da += ∂(a op b)/∂a · dy and db += the same for b, summed over the broadcast dimensions. Either gradient may be
    /// null when it is not wanted.
    /// </summary>
    public void BinaryBackward(BinaryOp op, Tensor a, Tensor b, Tensor dy, Tensor? da, Tensor? db)
    {
        var name = $"{op}Backward";
        Floating(name, a, b, dy);
        SameDType(name, a, b, dy);
        SameShape(name, a, dy);
        CheckBroadcast(name, a, b);
        if (da is not null) { Floating(name, da); SameDType(name, a, da); SameShape(name, a, da); }
        if (db is not null) { Floating(name, db); SameDType(name, b, db); SameShape(name, b, db); }
        using var counted = Count(OpKind.BinaryBackward, 0, 2 * B(a) + B(b) + 2 * (B(da) + B(db)));
        BinaryBackwardCore(op, a, b, dy, da, db);
    }

    /// <summary>y += α·x (same shape): gradient accumulation and plain SGD.</summary>
    public void AddScaled(Tensor x, double alpha, Tensor y)
    {
        Floating(nameof(AddScaled), x, y);
        SameDType(nameof(AddScaled), x, y);
        SameShape(nameof(AddScaled), x, y);
        using var counted = Count(OpKind.AddScaled, 0, 3 * B(x));
        AddScaledCore(x, alpha, y);
    }

    // ---------------------------------------------------------------- reductions

    /// <summary>
    /// Reduces <paramref name="x"/> (m×n) with <paramref name="op"/>: over everything when <paramref name="dim"/> is
    /// null (y is 1×1), over rows when it is 0 (y is 1×n, one value per column), over columns when it is 1 (y is m×1,
    /// one value per row). Sums are deterministic: the same inputs give the same bits on every run.
    /// </summary>
    public void Reduce(ReduceOp op, Tensor x, Tensor y, int? dim = null)
    {
        var name = $"{op}";
        Floating(name, x, y);
        SameDType(name, x, y);
        CheckReducedShape(name, x, y, dim);
        if (op == ReduceOp.Max && x.Length == 0)
            throw new EngineException(name, "the maximum of an empty tensor is undefined");
        using var counted = Count(OpKind.Reduce, 0, B(x) + B(y));
        ReduceCore(op, x, y, dim);
    }

    /// <summary>dx += the gradient of the reduction given dy (shaped like y). Max sends dy to the first maximal element.</summary>
    public void ReduceBackward(ReduceOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, int? dim = null)
    {
        var name = $"{op}Backward";
        Floating(name, x, y, dy, dx);
        SameDType(name, x, y, dy, dx);
        CheckReducedShape(name, x, y, dim);
        SameShape(name, y, dy);
        SameShape(name, x, dx);
        using var counted = Count(OpKind.ReduceBackward, 0, 3 * B(x) + 2 * B(y));
        ReduceBackwardCore(op, x, y, dy, dx, dim);
    }

    /// <summary>y (m×1) = log Σ_j exp(x_ij), computed as max + log Σ exp(x − max) so it never overflows.</summary>
    public void LogSumExpRows(Tensor x, Tensor y)
    {
        Floating(nameof(LogSumExpRows), x, y);
        SameDType(nameof(LogSumExpRows), x, y);
        CheckReducedShape(nameof(LogSumExpRows), x, y, 1);
        if (x.Cols == 0) throw new EngineException(nameof(LogSumExpRows), $"rows of {x.Shape} are empty");
        using var counted = Count(OpKind.LogSumExpRows, 0, B(x) + B(y));
        LogSumExpRowsCore(x, y);
    }

    /// <summary>dx += dy_i · softmax(x)_ij.</summary>
    public void LogSumExpRowsBackward(Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        const string name = nameof(LogSumExpRowsBackward);
        Floating(name, x, y, dy, dx);
        SameDType(name, x, y, dy, dx);
        CheckReducedShape(name, x, y, 1);
        SameShape(name, y, dy);
        SameShape(name, x, dx);
        using var counted = Count(OpKind.LogSumExpRowsBackward, 0, 3 * B(x) + 2 * B(y));
        LogSumExpRowsBackwardCore(x, y, dy, dx);
    }

    // ---------------------------------------------------------------- linear algebra

    /// <summary>
    /// c = α·op(a)·op(b) + β·c, where op transposes when asked. With β = 0, c's old contents are ignored (even NaN);
    /// backwards pass β = 1 to accumulate.
    /// </summary>
    public void Gemm(bool transA, bool transB, double alpha, Tensor a, Tensor b, double beta, Tensor c)
    {
        Floating(nameof(Gemm), a, b, c);
        SameDType(nameof(Gemm), a, b, c);
        var (m, ka) = transA ? (a.Cols, a.Rows) : (a.Rows, a.Cols);
        var (kb, n) = transB ? (b.Cols, b.Rows) : (b.Rows, b.Cols);
        if (ka != kb || c.Rows != m || c.Cols != n)
            throw new EngineException(nameof(Gemm),
                $"op(a) is {m}×{ka} (a {a.Shape}{(transA ? ", transposed" : "")}), op(b) is {kb}×{n} " +
                $"(b {b.Shape}{(transB ? ", transposed" : "")}), c is {c.Shape}; expected op(a)·op(b) to be {m}×{n} with inner dimensions equal");
        using var counted = Count(OpKind.Gemm, 2L * m * n * ka, B(a) + B(b) + (beta == 0 ? 1 : 2) * B(c));
        GemmCore(transA, transB, alpha, a, b, beta, c);
    }

    /// <summary>y = a·x + β·y for a CSR matrix a (r×c) and dense x (c×n), y (r×n). Rows are summed in column order, so the result is deterministic.</summary>
    public void Spmm(CsrMatrix a, Tensor x, double beta, Tensor y)
    {
        Own(nameof(Spmm), a.RowPtr, a.ColIdx, a.Values);
        Floating(nameof(Spmm), x, y, a.Values);
        SameDType(nameof(Spmm), a.Values, x, y);
        if (x.Rows != a.Cols || y.Rows != a.Rows || y.Cols != x.Cols)
            throw new EngineException(nameof(Spmm), $"a is {a.Rows}×{a.Cols} sparse, x is {x.Shape}, y is {y.Shape}; expected x {a.Cols}×n and y {a.Rows}×n");
        using var counted = Count(OpKind.Spmm, 0, SpmmBytes(a, x, beta, y));
        SpmmCore(a, x, beta, y);
    }

    // ---------------------------------------------------------------- rows and columns

    /// <summary>dst[i] = src[index[i]] for each row i of dst. <paramref name="index"/> is int32, k×1; dst is k×n.</summary>
    public void GatherRows(Tensor src, Tensor index, Tensor dst)
    {
        CheckRowIndex(nameof(GatherRows), src, index, dst);
        using var counted = Count(OpKind.GatherRows, 0, B(index) + 2 * B(dst));
        GatherRowsCore(src, index, dst);
    }

    /// <summary>dst[index[i]] += src[i] for each row i of src (repeated indices add up). This accumulates.</summary>
    public void ScatterAddRows(Tensor src, Tensor index, Tensor dst)
    {
        CheckRowIndex(nameof(ScatterAddRows), dst, index, src);
        using var counted = Count(OpKind.ScatterAddRows, 0, B(index) + 3 * B(src));
        ScatterAddRowsCore(src, index, dst);
    }

    /// <summary>
    /// Copies the block of <paramref name="rows"/>×<paramref name="cols"/> elements at (srcRow, srcCol) of
    /// <paramref name="src"/> to (dstRow, dstCol) of <paramref name="dst"/>, overwriting, or adding when
    /// <paramref name="accumulate"/>. Concatenation and slicing along either axis, forward and backward, are this op.
    /// </summary>
    public void CopyBlock(Tensor src, int srcRow, int srcCol, Tensor dst, int dstRow, int dstCol, int rows, int cols, bool accumulate)
    {
        Floating(nameof(CopyBlock), src, dst);
        SameDType(nameof(CopyBlock), src, dst);
        // Compared as rows > src.Rows − srcRow rather than srcRow + rows > src.Rows, which can overflow.
        if (rows < 0 || cols < 0 || srcRow < 0 || srcCol < 0 || dstRow < 0 || dstCol < 0 || srcRow > src.Rows || dstRow > dst.Rows ||
            srcCol > src.Cols || dstCol > dst.Cols || rows > src.Rows - srcRow || cols > src.Cols - srcCol ||
            rows > dst.Rows - dstRow || cols > dst.Cols - dstCol)
            throw new EngineException(nameof(CopyBlock),
                $"a {rows}×{cols} block from ({srcRow}, {srcCol}) of {src.Shape} to ({dstRow}, {dstCol}) of {dst.Shape} does not fit");
        using var counted = Count(OpKind.CopyBlock, 0, (accumulate ? 3L : 2L) * rows * cols * src.DType.SizeInBytes());
        CopyBlockCore(src, srcRow, srcCol, dst, dstRow, dstCol, rows, cols, accumulate);
    }

    /// <summary>y_i = x_i / max(‖x_i‖₂, ε) for every row i (PyTorch's F.normalize).</summary>
    public void RowL2Normalize(Tensor x, Tensor y, double eps = 1e-12)
    {
        Floating(nameof(RowL2Normalize), x, y);
        SameDType(nameof(RowL2Normalize), x, y);
        SameShape(nameof(RowL2Normalize), x, y);
        using var counted = Count(OpKind.RowL2Normalize, 0, 2 * B(x));
        RowL2NormalizeCore(x, y, eps);
    }

    /// <summary>dx += the gradient of <see cref="RowL2Normalize"/> given the forward's x and y.</summary>
    public void RowL2NormalizeBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, double eps = 1e-12)
    {
        const string name = nameof(RowL2NormalizeBackward);
        Floating(name, x, y, dy, dx);
        SameDType(name, x, y, dy, dx);
        SameShape(name, x, y, dy, dx);
        using var counted = Count(OpKind.RowL2NormalizeBackward, 0, 5 * B(x));
        RowL2NormalizeBackwardCore(x, y, dy, dx, eps);
    }

    /// <summary>y = softmax of each row of x, or its logarithm when <paramref name="log"/> (computed stably).</summary>
    public void SoftmaxRows(Tensor x, Tensor y, bool log)
    {
        var name = log ? "LogSoftmaxRows" : nameof(SoftmaxRows);
        Floating(name, x, y);
        SameDType(name, x, y);
        SameShape(name, x, y);
        using var counted = Count(OpKind.SoftmaxRows, 0, 2 * B(x));
        if (x.Length > 0) SoftmaxRowsCore(x, y, log);
    }

    /// <summary>dx += the gradient of <see cref="SoftmaxRows"/> given its output y.</summary>
    public void SoftmaxRowsBackward(Tensor y, Tensor dy, Tensor dx, bool log)
    {
        var name = log ? "LogSoftmaxRowsBackward" : nameof(SoftmaxRowsBackward);
        Floating(name, y, dy, dx);
        SameDType(name, y, dy, dx);
        SameShape(name, y, dy, dx);
        using var counted = Count(OpKind.SoftmaxRowsBackward, 0, 4 * B(y));
        if (y.Length > 0) SoftmaxRowsBackwardCore(y, dy, dx, log);
    }

    /// <summary>
    /// Batch normalisation in training mode over the rows of x (m×n): y = γ·(x − mean)/sqrt(var + ε) + β with the
    /// biased batch variance. γ, β are 1×n; <paramref name="mean"/> and <paramref name="invStd"/> (1×n) receive the
    /// batch statistics the backward needs.
    /// </summary>
    public void BatchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd, double eps = 1e-5)
    {
        Floating(nameof(BatchNorm), x, gamma, beta, y, mean, invStd);
        SameDType(nameof(BatchNorm), x, gamma, beta, y, mean, invStd);
        CheckBatchNorm(nameof(BatchNorm), x, gamma, beta, mean, invStd);
        SameShape(nameof(BatchNorm), x, y);
        using var counted = Count(OpKind.BatchNorm, 0, 2 * B(x) + 4 * B(gamma));
        BatchNormCore(x, gamma, beta, y, mean, invStd, eps);
    }

    /// <summary>dx, dγ, dβ += the gradients of <see cref="BatchNorm"/> given dy and the saved statistics.</summary>
    public void BatchNormBackward(Tensor x, Tensor gamma, Tensor mean, Tensor invStd, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta)
    {
        const string name = nameof(BatchNormBackward);
        Floating(name, x, gamma, mean, invStd, dy, dx, dGamma, dBeta);
        SameDType(name, x, gamma, mean, invStd, dy, dx, dGamma, dBeta);
        CheckBatchNorm(name, x, gamma, dBeta, mean, invStd);
        SameShape(name, x, dy, dx);
        SameShape(name, gamma, dGamma);
        using var counted = Count(OpKind.BatchNormBackward, 0, 4 * B(x) + 7 * B(gamma));
        BatchNormBackwardCore(x, gamma, mean, invStd, dy, dx, dGamma, dBeta);
    }

    // ---------------------------------------------------------------- selection

    /// <summary>
    /// For each row r of <paramref name="scores"/> (rows×cols), the columns of its <paramref name="k"/> best scores that
    /// are not masked, best first, into row r of <paramref name="result"/> (int32 rows×k); −1 pads where fewer than k
    /// columns remain. One total order on every backend: higher score first, equal scores by the lower column, NaN below
    /// every number (−∞ included). The mask is CSR over the rows: row r masks
    /// maskCols[maskRowPtr[r] .. maskRowPtr[r+1]) (int32 (rows+1)×1 and nnz×1, columns within 0..cols−1, in any order,
    /// repeats harmless); both null masks nothing. The mask's values are checked by the CPU backend only: a GPU would
    /// have to wait for them.
    /// </summary>
    public void TopKRows(Tensor scores, Tensor? maskRowPtr, Tensor? maskCols, int k, Tensor result)
    {
        const string name = nameof(TopKRows);
        Floating(name, scores);
        Own(name, result);
        if (k < 0) throw new EngineException(name, $"k must be 0 or more, got {k}");
        if (result.DType != DType.Int32 || result.Rows != scores.Rows || result.Cols != k)
            throw new EngineException(name,
                $"scores are {scores.Shape} and k is {k}, so the result must be an int32 {scores.Rows}×{k} tensor; got {result.DType.Name()} {result.Shape}");
        if ((maskRowPtr is null) != (maskCols is null))
            throw new EngineException(name, $"the mask needs both its row pointers and its columns, or neither; got only the {(maskRowPtr is null ? "columns" : "row pointers")}");
        if (maskRowPtr is not null && maskCols is not null)
        {
            Own(name, maskRowPtr, maskCols);
            if (maskRowPtr.DType != DType.Int32 || maskRowPtr.Rows != scores.Rows + 1L || maskRowPtr.Cols != 1)
                throw new EngineException(name,
                    $"scores are {scores.Shape}, so the mask's row pointers must be an int32 {scores.Rows + 1L}×1 tensor; got {maskRowPtr.DType.Name()} {maskRowPtr.Shape}");
            if (maskCols.DType != DType.Int32 || maskCols.Cols != 1)
                throw new EngineException(name, $"the mask's columns must be an int32 nnz×1 tensor; got {maskCols.DType.Name()} {maskCols.Shape}");
        }
        using var counted = Count(OpKind.TopKRows, 0, B(scores) + B(maskRowPtr) + B(maskCols) + B(result));
        if (result.Length > 0) TopKRowsCore(scores, maskRowPtr, maskCols, k, result);
    }

    // ---------------------------------------------------------------- optimisation

    /// <summary>
    /// One Adam step with PyTorch's semantics on <paramref name="param"/>, updating its moments m and v in place:
    /// g = grad + wd·param; m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²;
    /// param −= lr · (m / (1−β₁ᵗ)) / (sqrt(v / (1−β₂ᵗ)) + ε). <paramref name="step"/> t counts from 1.
    /// </summary>
    public void AdamStep(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, double weightDecay, int step)
    {
        Floating(nameof(AdamStep), param, grad, m, v);
        SameDType(nameof(AdamStep), param, grad, m, v);
        SameShape(nameof(AdamStep), param, grad, m, v);
        if (step < 1) throw new EngineException(nameof(AdamStep), $"step counts from 1, got {step}");
        using var counted = Count(OpKind.AdamStep, 0, 7 * B(param));
        AdamStepCore(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
