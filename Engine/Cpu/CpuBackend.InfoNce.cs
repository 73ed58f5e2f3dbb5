using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Engine.Cpu;

/// <summary>
/// InfoNCE, streamed (see <see cref="Backend.InfoNceForward"/>): owned rows in parallel blocks of
/// <see cref="InfoNceRows"/>, the other side streamed in tiles of <see cref="InfoNceTile"/> rows. Each block × tile of
/// logits is one single-threaded managed GEMM into a per-block buffer, so the n×n logits never exist whole. A row's
/// sums run over the tiles in order and the GEMM's arithmetic per element is fixed by the shapes, whatever block or
/// thread a row falls in: results are the same bits for any thread count. Extra memory per running block: the logits
/// tile (rows × tile), a rows × d accumulator and the GEMM's packed panels, under 1 MB in float32; the backward adds
/// its lanes' partial sums of dc.
/// </summary>
public sealed partial class CpuBackend
{
    // Rows: a multiple of the GEMM's 6-row micro-tile, so only the last block has edge tiles. Tile: a multiple of its
    // widest strip (32); a tile of float32 logits is 384 KB, within L2, where the exponentials and the second GEMM
    // read it back.
    private const int InfoNceRows = 192;
    private const int InfoNceTile = 512;

    // Lanes of the backward, each with its own partial sum of dc: a constant, so the sums' order is fixed; enough for
    // the cores a CPU backend usually has, few enough that their n×d partials stay small.
    private const int InfoNceLanes = 8;

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
                OrNull<float>(da), OrNull<float>(dc));
        else
            InfoNceBackward(Data<double>(a), Data<double>(c), a.Rows, a.Cols, invTemperature, Data<double>(lse), scale * invTemperature,
                OrNull<double>(da), OrNull<double>(dc));
        return true;
    }

    /// <summary>Per row, an online log-sum-exp over the tiles: (max, Σ exp(x − max)), rescaled when a tile raises the max.</summary>
    private static void InfoNceForward<T>(T[] a, T[] c, int n, int d, T s, T[] lse, T[] positive) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ForChunks(n, (first, count) =>
        {
            var logits = ArrayPool<T>.Shared.Rent(count * InfoNceTile);
            Span<T> max = stackalloc T[count], sum = stackalloc T[count];
            max.Fill(T.NegativeInfinity);
            sum.Clear();
            for (int j0 = 0; j0 < n; j0 += InfoNceTile)
            {
                int width = Math.Min(InfoNceTile, n - j0);
                TileLogits(a, first, count, c, j0, width, d, s, logits);
                for (int r = 0; r < count; r++)
                {
                    var row = logits.AsSpan(r * width, width);
                    T tileMax = TensorPrimitives.Max<T>(row);
                    if (tileMax > max[r])
                    {
                        sum[r] *= T.Exp(max[r] - tileMax);
                        max[r] = tileMax;
                    }
                    TensorPrimitives.Subtract(row, max[r], row);
                    TensorPrimitives.Exp<T>(row, row);
                    sum[r] += TensorPrimitives.Sum<T>(row);
                }
            }
            for (int r = 0; r < count; r++)
            {
                int i = first + r;
                lse[i] = max[r] + T.Log(sum[r]);
                positive[i] = TensorPrimitives.Dot<T>(a.AsSpan(i * d, d), c.AsSpan(i * d, d)) * s;
            }
            ArrayPool<T>.Shared.Return(logits);
        }, InfoNceRows);
    }

    /// <summary>
    /// Both gradients from one pass over the logits: each anchor block × candidate tile of p = exp(logit − lse) is
    /// computed once and used twice, da_block (+)= p·c_tile and dc_tile (+)= pᵀ·a_block, both by GEMM. Anchor blocks own
    /// their rows of da; dc is summed over every anchor block, so a fixed number of lanes (each a run of blocks, in
    /// order) keep their own dc partial sums, added up in lane order at the end: the bits do not depend on the thread
    /// count. Extra memory: <see cref="InfoNceLanes"/> partial sums of n×d.
    /// </summary>
    private static void InfoNceBackward<T>(T[] a, T[] c, int n, int d, T s, T[] lse, T factor, T[]? da, T[]? dc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = ManagedGemm.BestKernel<T>();
        int blocks = (n + InfoNceRows - 1) / InfoNceRows;
        int lanes = Math.Min(InfoNceLanes, blocks);
        var partials = dc is null ? null : new T[lanes][];
        Parallel.For(0, lanes, OneThreadPerCore, lane =>
        {
            var p = ArrayPool<T>.Shared.Rent(InfoNceRows * InfoNceTile);
            var acc = ArrayPool<T>.Shared.Rent(InfoNceRows * d);
            T[]? partial = null;
            if (dc is not null)
            {
                partial = partials![lane] = ArrayPool<T>.Shared.Rent(n * d);
                Array.Clear(partial, 0, n * d);
            }
            for (int block = blocks * lane / lanes; block < blocks * (lane + 1) / lanes; block++)
            {
                int first = block * InfoNceRows, count = Math.Min(InfoNceRows, n - first);
                var anchors = a.AsSpan(first * d, count * d);
                for (int j0 = 0; j0 < n; j0 += InfoNceTile)
                {
                    int width = Math.Min(InfoNceTile, n - j0);
                    var candidates = c.AsSpan(j0 * d, width * d);
                    TileLogits(a, first, count, c, j0, width, d, s, p);
                    for (int r = 0; r < count; r++)
                    {
                        var row = p.AsSpan(r * width, width);
                        TensorPrimitives.Subtract(row, lse[first + r], row);
                        TensorPrimitives.Exp<T>(row, row);
                    }
                    // acc (+)= p·c_tile (the first tile overwrites what the rented array held); partial_tile += pᵀ·a_block.
                    if (da is not null)
                        ManagedGemm.Gemm(kernel, 1, false, false, count, d, width, T.One, p, width, candidates, d, j0 == 0 ? T.Zero : T.One, acc, d);
                    if (partial is not null)
                        ManagedGemm.Gemm(kernel, 1, true, false, width, d, count, T.One, p, width, anchors, d, T.One, partial.AsSpan(j0 * d, width * d), d);
                }
                if (da is not null)
                    for (int r = 0; r < count; r++)
                    {
                        int o = first + r;
                        for (int k = 0; k < d; k++)
                            da[o * d + k] += factor * (acc[r * d + k] - c[o * d + k]);
                    }
            }
            ArrayPool<T>.Shared.Return(p);
            ArrayPool<T>.Shared.Return(acc);
        });
        if (dc is null) return;
        ForChunks(n * d, (start, count) =>
        {
            for (int e = start; e < start + count; e++)
            {
                T sum = partials![0][e];
                for (int lane = 1; lane < lanes; lane++) sum += partials[lane][e];
                dc[e] += factor * (sum - a[e]);
            }
        });
        foreach (var partial in partials!) ArrayPool<T>.Shared.Return(partial);
    }

    /// <summary>
    /// logits[r·width + t] = s·⟨x_{first+r}, y_{j0+t}⟩ for a block's rows and one tile: one GEMM on this thread (the
    /// blocks are the parallelism).
    /// </summary>
    private static void TileLogits<T>(T[] x, int first, int count, T[] y, int j0, int width, int d, T s, T[] logits)
        where T : unmanaged, IFloatingPointIeee754<T>
        => ManagedGemm.Gemm(ManagedGemm.BestKernel<T>(), 1, false, true, count, width, d, s, x.AsSpan(first * d, count * d), d,
            y.AsSpan(j0 * d, width * d), d, T.Zero, logits, width);
}
