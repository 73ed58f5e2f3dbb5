using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>
    /// Σ x in an order fixed by the length alone (four vector accumulators from index 0, then the tail). Library sums
    /// may start at the first aligned address, which moves with the array, and so give other bits on another run.
    /// </summary>
    internal static T SumDeterministic<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T total = T.Zero;
        if (Vector256.IsHardwareAccelerated && x.Length >= 4 * Vector256<T>.Count)
        {
            ref T start = ref MemoryMarshal.GetReference(x);
            int width = Vector256<T>.Count;
            Vector256<T> s0 = Vector256<T>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= x.Length - 4 * width; i += 4 * width)
            {
                s0 += Vector256.LoadUnsafe(ref start, (nuint)i);
                s1 += Vector256.LoadUnsafe(ref start, (nuint)(i + width));
                s2 += Vector256.LoadUnsafe(ref start, (nuint)(i + 2 * width));
                s3 += Vector256.LoadUnsafe(ref start, (nuint)(i + 3 * width));
            }
            total = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        for (; i < x.Length; i++) total += x[i];
        return total;
    }

    /// <summary>Σ x over a whole array: fixed-size chunks summed in parallel, then the chunk sums in order.</summary>
    private static T SumAll<T>(T[] x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunks = (int)((x.LongLength + ParallelGrain - 1) / ParallelGrain);
        var partial = new T[Math.Max(1, chunks)];
        ForChunks(x.Length, (start, count) => partial[start / ParallelGrain] = SumDeterministic<T>(x.AsSpan(start, count)));
        return SumDeterministic<T>(partial);
    }

    protected override void ReduceCore(ReduceOp op, Tensor x, Tensor y, int? dim)
    {
        if (x.DType == DType.Float32) Reduce<float>(op, x, y, dim);
        else Reduce<double>(op, x, y, dim);
    }

    private static void Reduce<T>(ReduceOp op, Tensor xt, Tensor yt, int? dim) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] x = Data<T>(xt), y = Data<T>(yt);
        int rows = xt.Rows, cols = xt.Cols;
        switch (dim)
        {
            case null:
                y[0] = op switch
                {
                    ReduceOp.Max => TensorPrimitives.Max<T>(x),
                    ReduceOp.Sum => SumAll(x),
                    _ => SumAll(x) / T.CreateTruncating(x.LongLength),
                };
                break;
            case 0: // one value per column: rows are folded in one after another
                if (rows == 0) { Array.Fill(y, op == ReduceOp.Sum ? T.Zero : T.NaN); break; }
                x.AsSpan(0, cols).CopyTo(y);
                for (int r = 1; r < rows; r++)
                {
                    var row = x.AsSpan(r * cols, cols);
                    if (op == ReduceOp.Max) TensorPrimitives.Max(y, row, y);
                    else TensorPrimitives.Add(y, row, y);
                }
                if (op == ReduceOp.Mean) TensorPrimitives.Divide(y, T.CreateTruncating(rows), y);
                break;
            default: // one value per row
                ForRows(rows, cols, r =>
                {
                    var row = x.AsSpan(r * cols, cols);
                    y[r] = op switch
                    {
                        ReduceOp.Max => TensorPrimitives.Max<T>(row),
                        ReduceOp.Sum => SumDeterministic<T>(row),
                        _ => SumDeterministic<T>(row) / T.CreateTruncating(cols),
                    };
                });
                break;
        }
    }

    protected override void ReduceBackwardCore(ReduceOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, int? dim)
    {
        if (x.DType == DType.Float32) ReduceBackward<float>(op, x, y, dy, dx, dim);
        else ReduceBackward<double>(op, x, y, dy, dx, dim);
    }

    private static void ReduceBackward<T>(ReduceOp op, Tensor xt, Tensor yt, Tensor dyt, Tensor dxt, int? dim)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] x = Data<T>(xt), y = Data<T>(yt), dy = Data<T>(dyt), dx = Data<T>(dxt);
        int rows = xt.Rows, cols = xt.Cols;
        // Index into y (and dy) of the reduction that element (r, c) belongs to.
        int Out(int r, int c) => dim switch { null => 0, 0 => c, _ => r };

        if (op == ReduceOp.Max)
        {
            // The gradient goes to the first element equal to the maximum, as a fixed tie-break.
            var done = new bool[y.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    int o = Out(r, c), i = r * cols + c;
                    if (!done[o] && x[i] == y[o]) { dx[i] += dy[o]; done[o] = true; }
                }
            return;
        }

        long count = dim switch { null => xt.Length, 0 => rows, _ => cols };
        T scale = op == ReduceOp.Mean ? T.One / T.CreateTruncating(count) : T.One;
        ForRows(rows, cols, r =>
        {
            for (int c = 0; c < cols; c++) dx[r * cols + c] += dy[Out(r, c)] * scale;
        });
    }

    protected override void LogSumExpRowsCore(Tensor x, Tensor y)
    {
        if (x.DType == DType.Float32) LogSumExpRows(x, Data<float>(x), Data<float>(y));
        else LogSumExpRows(x, Data<double>(x), Data<double>(y));
    }

    private static void LogSumExpRows<T>(Tensor xt, T[] x, T[] y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = xt.Cols;
        ForRowsWithBuffer<T>(xt.Rows, cols, (r, exps) => y[r] = LogSumExp(x.AsSpan(r * cols, cols), exps));
    }

    /// <summary>max + log Σ exp(x − max): finite for any finite input. The exponentials go through
    /// <paramref name="exps"/> (a row-sized scratch buffer) so that they are computed vectorised.</summary>
    private static T LogSumExp<T>(ReadOnlySpan<T> row, Span<T> exps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max(row);
        if (T.IsInfinity(max)) return max;
        TensorPrimitives.Subtract(row, max, exps);
        TensorPrimitives.Exp(exps, exps);
        return max + T.Log(SumDeterministic<T>(exps));
    }

    protected override void LogSumExpRowsBackwardCore(Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        if (x.DType == DType.Float32) LogSumExpRowsBackward(x, Data<float>(x), Data<float>(y), Data<float>(dy), Data<float>(dx));
        else LogSumExpRowsBackward(x, Data<double>(x), Data<double>(y), Data<double>(dy), Data<double>(dx));
    }

    private static void LogSumExpRowsBackward<T>(Tensor xt, T[] x, T[] y, T[] dy, T[] dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = xt.Cols;
        ForRowsWithBuffer<T>(xt.Rows, cols, (r, softmax) =>
        {
            // dx_r += dy_r · softmax(x_r), with softmax(x_r) = exp(x_r − y_r).
            TensorPrimitives.Subtract(x.AsSpan(r * cols, cols), y[r], softmax);
            TensorPrimitives.Exp(softmax, softmax);
            var dxRow = dx.AsSpan(r * cols, cols);
            TensorPrimitives.FusedMultiplyAdd(softmax, dy[r], dxRow, dxRow);
        });
    }

    /// <summary><see cref="ForRows"/> with one scratch row per chunk of rows, for ops that need a row-sized temporary.</summary>
    private static void ForRowsWithBuffer<T>(int rows, int cols, Action<int, T[]> body) =>
        ForChunks(rows, (start, count) =>
        {
            var buffer = new T[cols];
            for (int r = start; r < start + count; r++) body(r, buffer);
        }, RowsPerChunk(cols));
}
