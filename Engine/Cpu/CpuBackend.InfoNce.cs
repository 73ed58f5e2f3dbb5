using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Engine.Cpu;

/// <summary>
/// InfoNCE, streamed (see <see cref="Backend.InfoNceForward"/>): owned rows in parallel chunks of
/// <see cref="InfoNceRows"/>, the other side streamed in tiles of <see cref="InfoNceTile"/> rows, so the n×n logits
/// exist only a chunk × tile at a time, in per-chunk buffers. A row's sums run over the tiles in order, whatever chunk
/// or thread it falls in: results are the same bits for any thread count. Extra memory: one transposed copy of a side
/// (n·d) per call, and the chunk buffers.
/// </summary>
public sealed partial class CpuBackend
{
    private const int InfoNceRows = 16;
    private const int InfoNceTile = 256;

    protected override bool InfoNceForwardCore(Tensor a, Tensor c, double invTemperature, Tensor lse, Tensor positive)
    {
        if (a.DType == DType.Float32)
            InfoNceForward(Data<float>(a), Data<float>(c), a.Rows, a.Cols, (float)invTemperature, Data<float>(lse), Data<float>(positive));
        else InfoNceForward(Data<double>(a), Data<double>(c), a.Rows, a.Cols, invTemperature, Data<double>(lse), Data<double>(positive));
        return true;
    }

    protected override bool InfoNceBackwardCore(Tensor a, Tensor c, double invTemperature, Tensor lse, double scale, Tensor? da, Tensor? dc)
    {
        if (a.DType == DType.Float32)
            InfoNceBackward(Data<float>(a), Data<float>(c), a.Rows, a.Cols, (float)invTemperature, Data<float>(lse), (float)(scale * invTemperature),
                da is null ? null : Data<float>(da), dc is null ? null : Data<float>(dc));
        else
            InfoNceBackward(Data<double>(a), Data<double>(c), a.Rows, a.Cols, invTemperature, Data<double>(lse), scale * invTemperature,
                da is null ? null : Data<double>(da), dc is null ? null : Data<double>(dc));
        return true;
    }

    /// <summary>Per row, an online log-sum-exp over the tiles: (max, Σ exp(x − max)), rescaled when a tile raises the max.</summary>
    private static void InfoNceForward<T>(T[] a, T[] c, int n, int d, T s, T[] lse, T[] positive) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cT = Transposed(c, n, d);
        ForChunks(n, (first, count) =>
        {
            var buffer = ArrayPool<T>.Shared.Rent(InfoNceRows * InfoNceTile);
            Span<T> max = stackalloc T[InfoNceRows], sum = stackalloc T[InfoNceRows];
            max.Fill(T.NegativeInfinity);
            sum.Clear();
            for (int j0 = 0; j0 < n; j0 += InfoNceTile)
            {
                int width = Math.Min(InfoNceTile, n - j0);
                for (int r = 0; r < count; r++)
                {
                    var logits = TileLogits(a.AsSpan((first + r) * d, d), cT, n, j0, width, s, buffer.AsSpan(r * InfoNceTile, width));
                    T tileMax = TensorPrimitives.Max<T>(logits);
                    if (tileMax > max[r])
                    {
                        sum[r] *= T.Exp(max[r] - tileMax);
                        max[r] = tileMax;
                    }
                    TensorPrimitives.Subtract(logits, max[r], logits);
                    TensorPrimitives.Exp<T>(logits, logits);
                    sum[r] += TensorPrimitives.Sum<T>(logits);
                }
            }
            for (int r = 0; r < count; r++)
            {
                int i = first + r;
                lse[i] = max[r] + T.Log(sum[r]);
                positive[i] = TensorPrimitives.Dot<T>(a.AsSpan(i * d, d), c.AsSpan(i * d, d)) * s;
            }
            ArrayPool<T>.Shared.Return(buffer);
        }, InfoNceRows);
    }

    private static void InfoNceBackward<T>(T[] a, T[] c, int n, int d, T s, T[] lse, T factor, T[]? da, T[]? dc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (da is not null) InfoNceGradient(a, c, n, d, s, lse, lseOfOwned: true, factor, da);
        if (dc is not null) InfoNceGradient(c, a, n, d, s, lse, lseOfOwned: false, factor, dc);
    }

    /// <summary>
    /// One side of the backward, owning the rows it writes (no two chunks write one element): for each owned row o,
    /// grad_o += factor·(Σ_t p_ot·streamed_t − streamed_o), with p recomputed tile by tile. Owned anchors take lse
    /// from their own row (da), owned candidates from the streamed anchor's (dc).
    /// </summary>
    private static void InfoNceGradient<T>(T[] owned, T[] streamed, int n, int d, T s, T[] lse, bool lseOfOwned, T factor, T[] grad)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var streamedT = Transposed(streamed, n, d);
        ForChunks(n, (first, count) =>
        {
            var buffer = ArrayPool<T>.Shared.Rent(InfoNceTile);
            var acc = ArrayPool<T>.Shared.Rent(InfoNceRows * d);
            Array.Clear(acc, 0, count * d);
            for (int j0 = 0; j0 < n; j0 += InfoNceTile)
            {
                int width = Math.Min(InfoNceTile, n - j0);
                for (int r = 0; r < count; r++)
                {
                    int o = first + r;
                    var p = TileLogits(owned.AsSpan(o * d, d), streamedT, n, j0, width, s, buffer.AsSpan(0, width));
                    if (lseOfOwned) TensorPrimitives.Subtract(p, lse[o], p);
                    else TensorPrimitives.Subtract(p, lse.AsSpan(j0, width), p);
                    TensorPrimitives.Exp<T>(p, p);
                    for (int k = 0; k < d; k++)
                        acc[r * d + k] += TensorPrimitives.Dot<T>(p, streamedT.AsSpan(k * n + j0, width));
                }
            }
            for (int r = 0; r < count; r++)
            {
                int o = first + r;
                for (int k = 0; k < d; k++)
                    grad[o * d + k] += factor * (acc[r * d + k] - streamed[o * d + k]);
            }
            ArrayPool<T>.Shared.Return(buffer);
            ArrayPool<T>.Shared.Return(acc);
        }, InfoNceRows);
    }

    /// <summary>
    /// logits[t] = s·⟨x, y_{j0+t}⟩ for one tile, from yᵀ (d×n): d vector multiply-adds along the tile rather than a
    /// short dot product per pair.
    /// </summary>
    private static Span<T> TileLogits<T>(ReadOnlySpan<T> x, T[] yT, int n, int j0, int width, T s, Span<T> logits)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        logits.Clear();
        for (int k = 0; k < x.Length; k++) Axpy(x[k], yT.AsSpan(k * n + j0, width), logits);
        TensorPrimitives.Multiply(logits, s, logits);
        return logits;
    }

    /// <summary>xᵀ of a row-major n×d matrix, d×n.</summary>
    private static T[] Transposed<T>(T[] x, int n, int d)
    {
        var t = GC.AllocateUninitializedArray<T>(n * d);
        for (int j = 0; j < n; j++)
            for (int k = 0; k < d; k++) t[k * n + j] = x[j * d + k];
        return t;
    }
}
