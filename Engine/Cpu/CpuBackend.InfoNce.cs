using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

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
                TileLogits(a, first, count, d, cT, n, j0, width, s, buffer);
                for (int r = 0; r < count; r++)
                {
                    var logits = buffer.AsSpan(r * InfoNceTile, width);
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
            var buffer = ArrayPool<T>.Shared.Rent(InfoNceRows * InfoNceTile);
            var acc = ArrayPool<T>.Shared.Rent(InfoNceRows * d);
            Array.Clear(acc, 0, count * d);
            for (int j0 = 0; j0 < n; j0 += InfoNceTile)
            {
                int width = Math.Min(InfoNceTile, n - j0);
                TileLogits(owned, first, count, d, streamedT, n, j0, width, s, buffer);
                for (int r = 0; r < count; r++)
                {
                    var p = buffer.AsSpan(r * InfoNceTile, width);
                    if (lseOfOwned) TensorPrimitives.Subtract(p, lse[first + r], p);
                    else TensorPrimitives.Subtract(p, lse.AsSpan(j0, width), p);
                    TensorPrimitives.Exp<T>(p, p);
                }
                TileWeightedSums(buffer, count, d, streamedT, n, j0, width, acc);
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
    /// logits[r·tile + t] = s·⟨x_{first+r}, y_{j0+t}⟩ for the chunk's rows and one tile, from yᵀ (d×n). Rows go four
    /// at a time (the last one repeated, unstored, where fewer remain) so that four accumulators share each load of
    /// yᵀ. Each logit sums over k in order, in a vector lane or the scalar tail alike: the same bits whatever the grouping.
    /// </summary>
    private static void TileLogits<T>(T[] x, int first, int count, int d, T[] yT, int n, int j0, int width, T s, T[] logits)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < count; r += 4)
        {
            int o0 = (first + r) * d, o1 = (first + Math.Min(r + 1, count - 1)) * d;
            int o2 = (first + Math.Min(r + 2, count - 1)) * d, o3 = (first + Math.Min(r + 3, count - 1)) * d;
            int rows = Math.Min(4, count - r), t = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var vs = Vector256.Create(s);
                for (; t <= width - Vector256<T>.Count; t += Vector256<T>.Count)
                {
                    var (s0, s1, s2, s3) = (Vector256<T>.Zero, Vector256<T>.Zero, Vector256<T>.Zero, Vector256<T>.Zero);
                    for (int k = 0; k < d; k++)
                    {
                        var y = Vector256.LoadUnsafe(ref yT[0], (nuint)(k * n + j0 + t));
                        s0 += Vector256.Create(x[o0 + k]) * y;
                        s1 += Vector256.Create(x[o1 + k]) * y;
                        s2 += Vector256.Create(x[o2 + k]) * y;
                        s3 += Vector256.Create(x[o3 + k]) * y;
                    }
                    ReadOnlySpan<Vector256<T>> sums = [s0, s1, s2, s3];
                    for (int q = 0; q < rows; q++) (sums[q] * vs).StoreUnsafe(ref logits[0], (nuint)((r + q) * InfoNceTile + t));
                }
            }
            for (; t < width; t++)
                for (int q = 0; q < rows; q++)
                {
                    T dot = T.Zero;
                    for (int k = 0; k < d; k++) dot += x[(first + r + q) * d + k] * yT[k * n + j0 + t];
                    logits[(r + q) * InfoNceTile + t] = dot * s;
                }
        }
    }

    /// <summary>
    /// acc[r·d + k] += Σ_t p[r·tile + t]·y_{j0+t, k} for the chunk's rows and one tile, from yᵀ: four rows share each
    /// load of yᵀ, as in <see cref="TileLogits"/>; each sum runs in lanes, then the lanes, then the scalar tail, in order.
    /// </summary>
    private static void TileWeightedSums<T>(T[] p, int count, int d, T[] yT, int n, int j0, int width, T[] acc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> sums = stackalloc T[4];
        for (int r = 0; r < count; r += 4)
        {
            int rows = Math.Min(4, count - r);
            int p0 = r * InfoNceTile, p1 = Math.Min(r + 1, count - 1) * InfoNceTile;
            int p2 = Math.Min(r + 2, count - 1) * InfoNceTile, p3 = Math.Min(r + 3, count - 1) * InfoNceTile;
            for (int k = 0; k < d; k++)
            {
                int y0 = k * n + j0, t = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var (s0, s1, s2, s3) = (Vector256<T>.Zero, Vector256<T>.Zero, Vector256<T>.Zero, Vector256<T>.Zero);
                    for (; t <= width - Vector256<T>.Count; t += Vector256<T>.Count)
                    {
                        var y = Vector256.LoadUnsafe(ref yT[0], (nuint)(y0 + t));
                        s0 += Vector256.LoadUnsafe(ref p[0], (nuint)(p0 + t)) * y;
                        s1 += Vector256.LoadUnsafe(ref p[0], (nuint)(p1 + t)) * y;
                        s2 += Vector256.LoadUnsafe(ref p[0], (nuint)(p2 + t)) * y;
                        s3 += Vector256.LoadUnsafe(ref p[0], (nuint)(p3 + t)) * y;
                    }
                    (sums[0], sums[1], sums[2], sums[3]) = (Vector256.Sum(s0), Vector256.Sum(s1), Vector256.Sum(s2), Vector256.Sum(s3));
                }
                else sums.Clear();
                for (int q = 0; q < rows; q++)
                {
                    for (int u = t; u < width; u++) sums[q] += p[(r + q) * InfoNceTile + u] * yT[y0 + u];
                    acc[(r + q) * d + k] += sums[q];
                }
            }
        }
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
