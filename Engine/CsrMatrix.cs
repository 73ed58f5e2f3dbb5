namespace Engine;

/// <summary>
/// A sparse matrix in compressed sparse row form on one backend: row pointers and column indices (int32, n×1
/// tensors) and values (floating). Columns are sorted within each row and duplicates are summed, so every product
/// with it adds in one fixed order. The host arrays are kept: graphs are built on the host and their transpose is
/// derived from them.
/// </summary>
public sealed class CsrMatrix : IDisposable
{
    private CsrMatrix? transpose;
    private bool ownsTranspose; // the matrix that built the transpose frees it; the transpose never frees its source

    private CsrMatrix(Backend backend, DType dtype, int rows, int cols, int[] rowPtr, int[] colIdx, double[] values)
    {
        Rows = rows;
        Cols = cols;
        HostRowPtr = rowPtr;
        HostColIdx = colIdx;
        HostValues = values;
        RowPtr = backend.FromArray(rowPtr, rowPtr.Length, 1);
        ColIdx = backend.FromArray(colIdx, colIdx.Length, 1);
        Values = backend.FromDoubles(values, values.Length, 1, dtype);
    }

    public int Rows { get; }
    public int Cols { get; }
    public int NonZeros => HostColIdx.Count;
    public Backend Backend => Values.Backend;
    public DType DType => Values.DType;

    public Tensor RowPtr { get; }
    public Tensor ColIdx { get; }
    public Tensor Values { get; }

    public IReadOnlyList<int> HostRowPtr { get; }
    public IReadOnlyList<int> HostColIdx { get; }
    public IReadOnlyList<double> HostValues { get; }

    /// <summary>
    /// Builds a CSR matrix from coordinate triples (any order). Duplicate coordinates are summed; entries are placed
    /// by a stable counting sort, so the same triples always give the same matrix.
    /// </summary>
    public static CsrMatrix FromCoo(Backend backend, int rows, int cols, ReadOnlySpan<int> rowIndex, ReadOnlySpan<int> colIndex,
        ReadOnlySpan<double> values, DType dtype)
    {
        if (rowIndex.Length != colIndex.Length || rowIndex.Length != values.Length)
            throw new EngineException(nameof(FromCoo), $"{rowIndex.Length} row indices, {colIndex.Length} column indices and {values.Length} values");
        if (!dtype.IsFloating())
            throw new EngineException(nameof(FromCoo), $"values must be float32 or float64, got {dtype.Name()}");
        for (int e = 0; e < rowIndex.Length; e++)
            if ((uint)rowIndex[e] >= (uint)rows || (uint)colIndex[e] >= (uint)cols)
                throw new EngineException(nameof(FromCoo), $"entry {e} at ({rowIndex[e]}, {colIndex[e]}) is outside {rows}×{cols}");

        // Counting sort by column, then (stably) by row: entries end up sorted by (row, column).
        var byCol = StableOrder(colIndex, cols, Enumerable.Range(0, rowIndex.Length).ToArray());
        var order = StableOrder(rowIndex, rows, byCol);

        var rowPtr = new int[rows + 1];
        var colIdx = new List<int>(order.Length);
        var vals = new List<double>(order.Length);
        int prevRow = -1, prevCol = -1;
        foreach (var e in order)
        {
            int r = rowIndex[e], c = colIndex[e];
            if (r == prevRow && c == prevCol)
            {
                vals[^1] += values[e];
                continue;
            }
            colIdx.Add(c);
            vals.Add(values[e]);
            rowPtr[r + 1]++;
            (prevRow, prevCol) = (r, c);
        }
        for (int r = 0; r < rows; r++) rowPtr[r + 1] += rowPtr[r];
        return new CsrMatrix(backend, dtype, rows, cols, rowPtr, colIdx.ToArray(), vals.ToArray());
    }

    /// <summary>Builds a CSR matrix from a dense row-major host array, keeping the non-zero entries.</summary>
    public static CsrMatrix FromDense(Backend backend, double[] dense, int rows, int cols, DType dtype)
    {
        if (dense.Length != (long)rows * cols)
            throw new EngineException(nameof(FromDense), $"{dense.Length} elements do not fill {rows}×{cols}");
        var (ri, ci, v) = (new List<int>(), new List<int>(), new List<double>());
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                if (dense[(long)r * cols + c] != 0) { ri.Add(r); ci.Add(c); v.Add(dense[(long)r * cols + c]); }
        return FromCoo(backend, rows, cols, ri.ToArray(), ci.ToArray(), v.ToArray(), dtype);
    }

    /// <summary>
    /// The transpose, built once on the host by a counting sort (deterministic: the backward of a product with this
    /// matrix is a product with its transpose, never a transposed product whose summation order may vary).
    /// </summary>
    public CsrMatrix Transpose()
    {
        if (transpose is not null) return transpose;
        var rowIndex = new int[NonZeros];
        for (int r = 0; r < Rows; r++)
            for (int e = HostRowPtr[r]; e < HostRowPtr[r + 1]; e++)
                rowIndex[e] = r;
        transpose = FromCoo(Backend, Cols, Rows, HostColIdx.ToArray(), rowIndex, HostValues.ToArray(), DType);
        transpose.transpose = this;
        ownsTranspose = true;
        return transpose;
    }

    /// <summary>The dense row-major equivalent, for tests and small checks.</summary>
    public double[] ToDense()
    {
        var dense = new double[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++)
            for (int e = HostRowPtr[r]; e < HostRowPtr[r + 1]; e++)
                dense[(long)r * Cols + HostColIdx[e]] += HostValues[e];
        return dense;
    }

    private static int[] StableOrder(ReadOnlySpan<int> key, int keyCount, int[] input)
    {
        var start = new int[keyCount + 1];
        foreach (var e in input) start[key[e] + 1]++;
        for (int k = 0; k < keyCount; k++) start[k + 1] += start[k];
        var output = new int[input.Length];
        foreach (var e in input) output[start[key[e]]++] = e;
        return output;
    }

    public void Dispose()
    {
        RowPtr.Dispose();
        ColIdx.Dispose();
        Values.Dispose();
        if (ownsTranspose && transpose is { } t)
        {
            t.transpose = null;
            t.Dispose();
        }
        transpose = null;
    }
}
