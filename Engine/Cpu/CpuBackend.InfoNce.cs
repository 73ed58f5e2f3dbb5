using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Engine.Cpu;

/// <summary>
/// InfoNCE, streamed (see <see cref="Backend.InfoNceForward"/>). The forward alone (no gradients wanted) owns anchor rows
/// in parallel blocks of <see cref="InfoNceRows"/> and streams the candidates in tiles of <see cref="InfoNceTile"/>,
/// with an online log-sum-exp: a logits tile (rows × tile) per running block, the n×n logits never whole. The
/// gradients take anchor blocks of <see cref="InfoNceGradientRows"/> rows against all candidates at once: each block's
/// logits (rows × n, one single-threaded managed GEMM) give its softmax weights p, which serve both gradients by GEMM,
/// da_block from p·c and dc from pᵀ·a_block, so every logit and exponential is computed once. dc sums over every
/// anchor block, so a fixed number of lanes (each a run of blocks, in order) keep their own dc partial sums, added in
/// lane order at the end. Every sum runs in an order fixed by the shapes, whatever thread a block falls in: results
/// are the same bits for any thread count. Extra memory: per running block its logits and a rows × d accumulator,
/// plus <see cref="InfoNceLanes"/> partial sums of n×d when dc is wanted.
/// </summary>
public sealed partial class CpuBackend
{
    // Rows: a multiple of the GEMM's 6-row micro-tile, so only the last block has edge tiles. Tile: a multiple of its
    // widest strip (32); a tile of float32 logits is 384 KB, within L2, where the exponentials read it back.
    private const int InfoNceRows = 192;
    private const int InfoNceTile = 512;

    // Rows of a gradient block: its logits against all n candidates (n·48 elements) stay near L2 for n in the thousands.
    private const int InfoNceGradientRows = 48;

    // Lanes of the gradients, each with its own partial sum of dc: a constant, so the sums' order is fixed; enough for
    // the cores a CPU backend usually has, few enough that their n×d partials stay small.
    private const int InfoNceLanes = 8;

    protected override bool InfoNceForwardCore(Tensor a, Tensor c, double invTemperature, Tensor lse, Tensor positive)
    {
        if (a.DType == DType.Float32)
            InfoNceForward(Data<float>(a), Data<float>(c), a.Rows, a.Cols, (float)invTemperature, Data<float>(lse), Data<float>(positive));
        else InfoNceForward(Data<double>(a), Data<double>(c), a.Rows, a.Cols, invTemperature, Data<double>(lse), Data<double>(positive));
        return true;
    }

    protected override bool InfoNceForwardAndGradientsCore(Tensor a, Tensor c, double invTemperature, Tensor lse, Tensor positive, Tensor? da, Tensor? dc)
    {
        if (a.DType == DType.Float32)
            InfoNceGradients(Data<float>(a), Data<float>(c), a.Rows, a.Cols, (float)invTemperature, Data<float>(lse), Data<float>(positive),
                (float)invTemperature, OrNull<float>(da), OrNull<float>(dc));
        else
            InfoNceGradients(Data<double>(a), Data<double>(c), a.Rows, a.Cols, invTemperature, Data<double>(lse), Data<double>(positive),
                invTemperature, OrNull<double>(da), OrNull<double>(dc));
        return true;
    }

    protected override bool InfoNceBackwardCore(Tensor a, Tensor c, double invTemperature, Tensor lse, double scale, Tensor? da, Tensor? dc)
    {
        if (a.DType == DType.Float32)
            InfoNceGradients(Data<float>(a), Data<float>(c), a.Rows, a.Cols, (float)invTemperature, Data<float>(lse), null,
                (float)(scale * invTemperature), OrNull<float>(da), OrNull<float>(dc));
        else
            InfoNceGradients(Data<double>(a), Data<double>(c), a.Rows, a.Cols, invTemperature, Data<double>(lse), null,
                scale * invTemperature, OrNull<double>(da), OrNull<double>(dc));
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
                Logits(a, first, count, c, j0, width, d, s, logits);
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
                lse[first + r] = max[r] + T.Log(sum[r]);
                positive[first + r] = Positive(a, c, first + r, d, s);
            }
            ArrayPool<T>.Shared.Return(logits);
        }, InfoNceRows);
    }

    private static T Positive<T>(T[] a, T[] c, int i, int d, T s) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.Dot<T>(a.AsSpan(i * d, d), c.AsSpan(i * d, d)) * s;

    /// <summary>
    /// da_i += factor·(Σ_j p_ij c_j − c_i) and dc_j += factor·(Σ_i p_ij a_i − a_j), either may be null. Given
    /// <paramref name="positive"/> (the forward and the gradients in one pass), each block's lse and positive are
    /// computed here from its logits and the gradients are overwritten, not added to; without it, lse is the forward's.
    /// </summary>
    private static void InfoNceGradients<T>(T[] a, T[] c, int n, int d, T s, T[] lse, T[]? positive, T factor, T[]? da, T[]? dc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = ManagedGemm.BestKernel<T>();
        int blocks = (n + InfoNceGradientRows - 1) / InfoNceGradientRows;
        int lanes = Math.Min(InfoNceLanes, blocks);
        var partials = dc is null ? null : new T[lanes][];
        Parallel.For(0, lanes, OneThreadPerCore, lane =>
        {
            var p = ArrayPool<T>.Shared.Rent(InfoNceGradientRows * n);
            var acc = ArrayPool<T>.Shared.Rent(InfoNceGradientRows * d);
            T[]? partial = null;
            if (dc is not null)
            {
                partial = partials![lane] = ArrayPool<T>.Shared.Rent(n * d);
                Array.Clear(partial, 0, n * d);
            }
            for (int block = blocks * lane / lanes; block < blocks * (lane + 1) / lanes; block++)
            {
                int first = block * InfoNceGradientRows, count = Math.Min(InfoNceGradientRows, n - first);
                Logits(a, first, count, c, 0, n, d, s, p);
                for (int r = 0; r < count; r++)
                {
                    var row = p.AsSpan(r * n, n);
                    if (positive is not null)
                    {
                        T max = TensorPrimitives.Max<T>(row);
                        TensorPrimitives.Subtract(row, max, row);
                        TensorPrimitives.Exp<T>(row, row);
                        T sum = TensorPrimitives.Sum<T>(row);
                        TensorPrimitives.Multiply(row, T.One / sum, row);
                        lse[first + r] = max + T.Log(sum);
                        positive[first + r] = Positive(a, c, first + r, d, s);
                    }
                    else
                    {
                        TensorPrimitives.Subtract(row, lse[first + r], row);
                        TensorPrimitives.Exp<T>(row, row);
                    }
                }
                if (da is not null)
                {
                    ManagedGemm.Gemm(kernel, 1, false, false, count, d, n, T.One, p, n, c, d, T.Zero, acc, d);
                    for (int r = 0; r < count; r++)
                    {
                        int o = first + r;
                        for (int k = 0; k < d; k++)
                        {
                            T g = factor * (acc[r * d + k] - c[o * d + k]);
                            da[o * d + k] = positive is not null ? g : da[o * d + k] + g;
                        }
                    }
                }
                if (partial is not null)
                    ManagedGemm.Gemm(kernel, 1, true, false, n, d, count, T.One, p, n, a.AsSpan(first * d, count * d), d, T.One, partial, d);
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
                T g = factor * (sum - a[e]);
                dc[e] = positive is not null ? g : dc[e] + g;
            }
        });
        foreach (var partial in partials!) ArrayPool<T>.Shared.Return(partial);
    }

    /// <summary>
    /// logits[r·width + t] = s·⟨x_{first+r}, y_{j0+t}⟩ for a block's rows and candidates j0..j0+width: one GEMM on this
    /// thread (the blocks are the parallelism).
    /// </summary>
    private static void Logits<T>(T[] x, int first, int count, T[] y, int j0, int width, int d, T s, T[] logits)
        where T : unmanaged, IFloatingPointIeee754<T>
        => ManagedGemm.Gemm(ManagedGemm.BestKernel<T>(), 1, false, true, count, width, d, s, x.AsSpan(first * d, count * d), d,
            y.AsSpan(j0 * d, width * d), d, T.Zero, logits, width);
}
