using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>Rows per chunk of <see cref="ClubFitCore"/>'s gradient pass. Chunk gradients are added in chunk order,
    /// so the result depends on the row count alone, never on the threads.</summary>
    private const int ClubRowsPerChunk = 256;

    protected override void ClubFitCore(Tensor x, Tensor y, int pairs, ClubLayout layout, Tensor parameters, Tensor m, Tensor v,
        int steps, int step0, double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        var adam = (lr, beta1, beta2, eps, weightDecay);
        if (x.DType == DType.Float32)
            ClubFit(Data<float>(x), Data<float>(y), x.Rows, x.Rows / pairs, layout, Data<float>(parameters), Data<float>(m), Data<float>(v), steps, step0, adam);
        else
            ClubFit(Data<double>(x), Data<double>(y), x.Rows, x.Rows / pairs, layout, Data<double>(parameters), Data<double>(m), Data<double>(v), steps, step0, adam);
    }

    private static void ClubFit<T>(T[] x, T[] y, int rows, int rowsPerPair, ClubLayout layout, T[] p, T[] m, T[] v, int steps, int step0,
        (double Lr, double Beta1, double Beta2, double Eps, double WeightDecay) adam) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var q = new ClubNetworkOnRows<T>(layout);
        var partials = new T[(rows + ClubRowsPerChunk - 1) / ClubRowsPerChunk][];
        for (int c = 0; c < partials.Length; c++) partials[c] = new T[q.GradientLength];
        var gradient = new T[layout.Length];
        T meanScale = T.One / T.CreateTruncating(rowsPerPair); // each pair's term is a mean over its rows
        for (int step = 0; step < steps; step++)
        {
            q.Load(p);
            ForChunks(rows, (start, count) => q.Gradient(x, y, start, count, meanScale, partials[start / ClubRowsPerChunk]), ClubRowsPerChunk);
            q.Sum(partials, gradient);
            AdamUpdate(p, gradient, m, v, adam.Lr, adam.Beta1, adam.Beta2, adam.Eps, adam.WeightDecay, step0 + step + 1);
        }
    }

    /// <summary>
    /// q's forward and backward row by row, vectorised across its small widths. The weights are copied once per step
    /// into transposed arrays whose widths are padded with zeros to whole vectors; the zeros make every padded lane
    /// compute zero activations, so no lane needs masking, and the padded lanes of the gradients are dropped when
    /// the chunks are summed.
    /// </summary>
    private sealed class ClubNetworkOnRows<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly int Lanes = Vector256<T>.Count;
        private readonly ClubLayout layout;
        private readonly int width, hidden, widthPadded, hiddenPadded;
        // Per branch (μ = 0, logvar = 1): L1's weight transposed (width × hiddenPadded), L1's bias (hiddenPadded),
        // L2's weight transposed (hidden × widthPadded) and as it is (width × hiddenPadded), L2's bias (widthPadded).
        private readonly T[][] w1T = new T[2][], b1 = new T[2][], w2T = new T[2][], w2 = new T[2][], b2 = new T[2][];
        // Offsets in a chunk's padded gradient, per branch: [dL1ᵀ | dL1 bias | dL2ᵀ | dL2 bias].
        private readonly int gradW1, gradB1, gradW2, gradB2, gradBranch;

        public ClubNetworkOnRows(ClubLayout layout)
        {
            this.layout = layout;
            (width, hidden) = (layout.Width, layout.Hidden);
            widthPadded = (width + Lanes - 1) / Lanes * Lanes;
            hiddenPadded = (hidden + Lanes - 1) / Lanes * Lanes;
            for (int b = 0; b < 2; b++)
            {
                w1T[b] = new T[width * hiddenPadded];
                b1[b] = new T[hiddenPadded];
                w2T[b] = new T[hidden * widthPadded];
                w2[b] = new T[width * hiddenPadded];
                b2[b] = new T[widthPadded];
            }
            gradW1 = 0;
            gradB1 = width * hiddenPadded;
            gradW2 = gradB1 + hiddenPadded;
            gradB2 = gradW2 + hidden * widthPadded;
            gradBranch = gradB2 + widthPadded;
        }

        public int GradientLength => 2 * gradBranch;

        /// <summary>Copies the packed parameters into the padded working arrays.</summary>
        public void Load(T[] packed)
        {
            for (int b = 0; b < 2; b++)
            {
                int o = layout.Branch(b);
                for (int j = 0; j < hidden; j++)
                {
                    for (int k = 0; k < width; k++) w1T[b][k * hiddenPadded + j] = packed[o + layout.Weight1 + j * width + k];
                    b1[b][j] = packed[o + layout.Bias1 + j];
                }
                for (int d = 0; d < width; d++)
                {
                    for (int j = 0; j < hidden; j++)
                    {
                        T value = packed[o + layout.Weight2 + d * hidden + j];
                        w2T[b][j * widthPadded + d] = value;
                        w2[b][d * hiddenPadded + j] = value;
                    }
                    b2[b][d] = packed[o + layout.Bias2 + d];
                }
            }
        }

        /// <summary>
        /// The gradient of Σ_rows meanScale · Σ_k [(μ_k − y_k)² / (2·exp(ℓ_k)) + ℓ_k / 2] (q's negative Gaussian
        /// log-likelihood) over rows start..start+count, written into <paramref name="gradient"/> (padded layout).
        /// </summary>
        public void Gradient(T[] x, T[] y, int start, int count, T meanScale, T[] gradient)
        {
            Array.Clear(gradient);
            // Scratch: per branch the hidden activations (ReLU applied) and the output (logvar's before its tanh); then
            // y, and the output deltas.
            var scratch = new T[2 * hiddenPadded + 2 * widthPadded + 3 * widthPadded + hiddenPadded];
            var span = scratch.AsSpan();
            Span<T> hidden0 = span[..hiddenPadded], hidden1 = span.Slice(hiddenPadded, hiddenPadded);
            Span<T> mu = span.Slice(2 * hiddenPadded, widthPadded), logVar = span.Slice(2 * hiddenPadded + widthPadded, widthPadded);
            Span<T> target = span.Slice(2 * hiddenPadded + 2 * widthPadded, widthPadded);
            Span<T> dMu = span.Slice(2 * hiddenPadded + 3 * widthPadded, widthPadded);
            Span<T> dLogVarPre = span.Slice(2 * hiddenPadded + 4 * widthPadded, widthPadded);
            Span<T> dHidden = span.Slice(2 * hiddenPadded + 5 * widthPadded, hiddenPadded);
            T half = T.CreateTruncating(0.5);
            for (int r = start; r < start + count; r++)
            {
                ReadOnlySpan<T> xr = x.AsSpan(r * width, width);
                y.AsSpan(r * width, width).CopyTo(target); // padded lanes stay 0, as μ's and ℓ's do
                Forward(0, xr, hidden0, mu);
                Forward(1, xr, hidden1, logVar);
                // With e = exp(−ℓ) and δ = μ − y: dμ = δ·e, dℓ = ½ − ½·δ²·e, and through tanh dz = dℓ·(1 − ℓ²).
                for (int i = 0; i < widthPadded; i += Lanes)
                {
                    var delta = Load(mu, i) - Load(target, i);
                    var l = Tanh(Load(logVar, i));
                    var e = Exp(-l);
                    var scale = Vector256.Create(meanScale);
                    Store(delta * e * scale, dMu, i);
                    var dLogVar = (Vector256.Create(half) - Vector256.Create(half) * delta * delta * e) * scale;
                    Store(dLogVar * (Vector256<T>.One - l * l), dLogVarPre, i);
                }
                Backward(0, xr, hidden0, dMu, dHidden, gradient);
                Backward(1, xr, hidden1, dLogVarPre, dHidden, gradient);
            }
        }

        /// <summary>hidden = ReLU(L1(x)), output = L2(hidden) for branch b (the output before logvar's tanh).</summary>
        private void Forward(int b, ReadOnlySpan<T> xr, Span<T> hiddenOut, Span<T> output)
        {
            for (int i = 0; i < hiddenPadded; i += Lanes)
                Store(Vector256.Max(Combination(xr, w1T[b], hiddenPadded, i, Load(b1[b], i)), Vector256<T>.Zero), hiddenOut, i);
            for (int i = 0; i < widthPadded; i += Lanes)
                Store(Combination(hiddenOut[..hidden], w2T[b], widthPadded, i, Load(b2[b], i)), output, i);
        }

        /// <summary>Adds branch b's parameter gradients for one row, given the delta at its output.</summary>
        private void Backward(int b, ReadOnlySpan<T> xr, ReadOnlySpan<T> hiddenAct, ReadOnlySpan<T> dOut, Span<T> dHidden, T[] gradient)
        {
            var g = gradient.AsSpan(b * gradBranch, gradBranch);
            Axpy(T.One, dOut, g.Slice(gradB2, widthPadded));
            for (int j = 0; j < hidden; j++) Axpy(hiddenAct[j], dOut, g.Slice(gradW2 + j * widthPadded, widthPadded));
            for (int i = 0; i < hiddenPadded; i += Lanes)
            {
                // Through L2, then ReLU's backward: the activation is positive exactly where its input was.
                var open = Vector256.GreaterThan(Load(hiddenAct, i), Vector256<T>.Zero);
                Store(Vector256.ConditionalSelect(open, Combination(dOut[..width], w2[b], hiddenPadded, i, Vector256<T>.Zero), Vector256<T>.Zero), dHidden, i);
            }
            Axpy(T.One, dHidden, g.Slice(gradB1, hiddenPadded));
            for (int k = 0; k < width; k++) Axpy(xr[k], dHidden, g.Slice(gradW1 + k * hiddenPadded, hiddenPadded));
        }

        /// <summary>
        /// start + Σ_k coefficients[k] · matrix[k·stride + i ..], one vector at column i, accumulated in two registers:
        /// an accumulator kept in memory would make every step wait for the previous store.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<T> Combination(ReadOnlySpan<T> coefficients, ReadOnlySpan<T> matrix, int stride, int i, Vector256<T> start)
        {
            Vector256<T> even = start, odd = Vector256<T>.Zero;
            int k = 0;
            for (; k + 1 < coefficients.Length; k += 2)
            {
                even += Vector256.Create(coefficients[k]) * Load(matrix, k * stride + i);
                odd += Vector256.Create(coefficients[k + 1]) * Load(matrix, (k + 1) * stride + i);
            }
            if (k < coefficients.Length) even += Vector256.Create(coefficients[k]) * Load(matrix, k * stride + i);
            return even + odd;
        }

        /// <summary>The chunks' gradients added in chunk order, in the packed layout.</summary>
        public void Sum(T[][] partials, T[] packed)
        {
            var total = new T[GradientLength];
            foreach (var part in partials) Axpy(T.One, part, total);
            for (int b = 0; b < 2; b++)
            {
                int o = layout.Branch(b), g = b * gradBranch;
                for (int j = 0; j < hidden; j++)
                {
                    for (int k = 0; k < width; k++) packed[o + layout.Weight1 + j * width + k] = total[g + gradW1 + k * hiddenPadded + j];
                    packed[o + layout.Bias1 + j] = total[g + gradB1 + j];
                }
                for (int d = 0; d < width; d++)
                {
                    for (int j = 0; j < hidden; j++) packed[o + layout.Weight2 + d * hidden + j] = total[g + gradW2 + j * widthPadded + d];
                    packed[o + layout.Bias2 + d] = total[g + gradB2 + d];
                }
            }
        }

        /// <summary>acc += a · xs, for lengths that are whole vectors.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Axpy(T a, ReadOnlySpan<T> xs, Span<T> acc)
        {
            var va = Vector256.Create(a);
            for (int i = 0; i < acc.Length; i += Lanes) Store(Load(acc, i) + va * Load(xs, i), acc, i);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<T> Load(ReadOnlySpan<T> s, int i) => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(Vector256<T> value, Span<T> s, int i) => value.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

        /// <summary>tanh z = 1 − 2 / (e^2z + 1): saturates to ±1 without overflow; near 0 its error is absolute (ulps of 1).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<T> Tanh(Vector256<T> z)
        {
            var one = Vector256<T>.One;
            return one - (one + one) / (Exp(z + z) + one);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<T> Exp(Vector256<T> v) => typeof(T) == typeof(float)
            ? Vector256.Exp(v.As<T, float>()).As<float, T>()
            : Vector256.Exp(v.As<T, double>()).As<double, T>();
    }
}
