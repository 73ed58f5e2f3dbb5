using System.Numerics;
using System.Numerics.Tensors;

namespace Engine.Cpu;

public sealed partial class CpuBackend
{
    protected override bool ClubBoundRowsCore(Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, Tensor rowTerm)
    {
        if (mu.DType == DType.Float32)
            ClubBoundRows(Data<float>(mu), Data<float>(logVariance), Data<float>(y), Data<int>(permutation), mu.Cols, Data<float>(rowTerm));
        else
            ClubBoundRows(Data<double>(mu), Data<double>(logVariance), Data<double>(y), Data<int>(permutation), mu.Cols, Data<double>(rowTerm));
        return true;
    }

    private static void ClubBoundRows<T>(T[] mu, T[] logVariance, T[] y, int[] permutation, int d, T[] rowTerm) where T : IFloatingPointIeee754<T>
    {
        T two = T.CreateTruncating(2);
        ForChunks(rowTerm.Length, (start, count) =>
        {
            var variance = new T[d];
            for (int r = start; r < start + count; r++)
            {
                int self = r * d, shuffled = permutation[r] * d;
                TensorPrimitives.Exp(logVariance.AsSpan(self, d), variance); // vectorised: the exponentials are most of the work
                T sum = T.Zero;
                for (int k = 0; k < d; k++)
                {
                    T a = mu[self + k] - y[shuffled + k], b = mu[self + k] - y[self + k];
                    sum += (a * a - b * b) / (variance[k] * two);
                }
                rowTerm[r] = sum;
            }
        }, Math.Max(1, ParallelGrain / Math.Max(1, d)));
    }

    protected override bool ClubBoundRowsBackwardCore(Tensor mu, Tensor logVariance, Tensor y, Tensor permutation, Tensor? inverse,
        double scale, Tensor? dMu, Tensor? dLogVariance, Tensor? dY)
    {
        if (mu.DType == DType.Float32)
            ClubBoundRowsBackward(Data<float>(mu), Data<float>(logVariance), Data<float>(y), Data<int>(permutation), mu.Cols, (float)scale,
                OrNull<float>(dMu), OrNull<float>(dLogVariance), OrNull<float>(dY));
        else
            ClubBoundRowsBackward(Data<double>(mu), Data<double>(logVariance), Data<double>(y), Data<int>(permutation), mu.Cols, scale,
                OrNull<double>(dMu), OrNull<double>(dLogVariance), OrNull<double>(dY));
        return true;
    }

    /// <summary>
    /// With a = μ − y_π, b = μ − y and w = scale / (2·exp(ℓ)): dμ += 2a·w − 2b·w, dℓ += −(a² − b²)·w, dy += 2b·w and
    /// dy_π(i) −= 2a_i·w_i. Rows in order on one thread, so the partner's term needs no inverse permutation and has no race.
    /// </summary>
    private static void ClubBoundRowsBackward<T>(T[] mu, T[] logVariance, T[] y, int[] permutation, int d, T scale,
        T[]? dMu, T[]? dLogVariance, T[]? dY) where T : IFloatingPointIeee754<T>
    {
        T two = T.CreateTruncating(2);
        var variance = new T[d];
        for (int r = 0; r < permutation.Length; r++)
        {
            int self = r * d, shuffled = permutation[r] * d;
            TensorPrimitives.Exp(logVariance.AsSpan(self, d), variance);
            for (int k = 0; k < d; k++)
            {
                int e = self + k;
                T a = mu[e] - y[shuffled + k], b = mu[e] - y[e];
                T w = scale / (variance[k] * two);
                if (dMu is not null) dMu[e] += two * a * w - two * b * w;
                if (dLogVariance is not null) dLogVariance[e] += -(a * a - b * b) * w;
                if (dY is not null)
                {
                    dY[e] += two * b * w;
                    dY[shuffled + k] -= two * a * w;
                }
            }
        }
    }
}
