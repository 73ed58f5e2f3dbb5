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
    /// q's forward and backward four rows at a time, vectorised across its small widths: each weight vector loaded
    /// serves the four rows (four independent accumulators, so no step waits on the previous one), and each gradient
    /// vector is loaded and stored once per four rows. The weights are copied once per step into transposed arrays
    /// whose widths are padded with zeros to whole vectors; the zeros make every padded lane compute zero activations,
    /// so no lane needs masking, and the padded lanes of the gradients are dropped when the chunks are summed.
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

        /// <summary>Rows per group: the rows that share each weight load and each gradient load and store.</summary>
        private const int Group = 4;

        /// <summary>
        /// The gradient of Σ_rows meanScale · Σ_k [(μ_k − y_k)² / (2·exp(ℓ_k)) + ℓ_k / 2] (q's negative Gaussian
        /// log-likelihood) over rows start..start+count, written into <paramref name="gradient"/> (padded layout).
        /// The sums run in an order fixed by the row count alone.
        /// </summary>
        public void Gradient(T[] x, T[] y, int start, int count, T meanScale, T[] gradient)
        {
            Array.Clear(gradient);
            // Per branch, row-of-group after row-of-group: hidden activations (ReLU applied), outputs (logvar's before
            // its tanh), output deltas, hidden deltas.
            var act = new T[2 * Group * hiddenPadded];
            var output = new T[2 * Group * widthPadded];
            var dOut = new T[2 * Group * widthPadded];
            var dHidden = new T[2 * Group * hiddenPadded];
            var target = new T[widthPadded]; // y's row, padded: its padded lanes stay 0, as μ's and ℓ's do
            Span<int> rows = stackalloc int[Group];
            for (int first = start; first < start + count; first += Group)
            {
                // A short group repeats its last row: the copies are computed, and their deltas zeroed, so never added.
                int n = Math.Min(Group, start + count - first);
                for (int r = 0; r < Group; r++) rows[r] = first + Math.Min(r, n - 1);
                for (int b = 0; b < 2; b++) Forward(b, x, rows, act, output);
                for (int r = 0; r < Group; r++)
                {
                    y.AsSpan(rows[r] * width, width).CopyTo(target);
                    OutputDeltas(output, target, r, r < n ? meanScale : T.Zero, dOut);
                }
                for (int b = 0; b < 2; b++) Backward(b, x, rows, act, dOut, dHidden, gradient);
            }
        }

        private int Act(int b, int r) => (b * Group + r) * hiddenPadded;
        private int Out(int b, int r) => (b * Group + r) * widthPadded;

        /// <summary>Branch b's hidden activations ReLU(L1(x)) and output L2(hidden) for the group's rows.</summary>
        private void Forward(int b, T[] x, ReadOnlySpan<int> rows, T[] act, T[] output)
        {
            for (int i = 0; i < hiddenPadded; i += Lanes)
            {
                var (h0, h1, h2, h3) = Combination(x, rows[0] * width, rows[1] * width, rows[2] * width, rows[3] * width, width,
                    w1T[b], hiddenPadded, i, Load(b1[b], i));
                Store(Vector256.Max(h0, Vector256<T>.Zero), act, Act(b, 0) + i);
                Store(Vector256.Max(h1, Vector256<T>.Zero), act, Act(b, 1) + i);
                Store(Vector256.Max(h2, Vector256<T>.Zero), act, Act(b, 2) + i);
                Store(Vector256.Max(h3, Vector256<T>.Zero), act, Act(b, 3) + i);
            }
            for (int i = 0; i < widthPadded; i += Lanes)
            {
                var (o0, o1, o2, o3) = Combination(act, Act(b, 0), Act(b, 1), Act(b, 2), Act(b, 3), hidden, w2T[b], widthPadded, i, Load(b2[b], i));
                Store(o0, output, Out(b, 0) + i);
                Store(o1, output, Out(b, 1) + i);
                Store(o2, output, Out(b, 2) + i);
                Store(o3, output, Out(b, 3) + i);
            }
        }

        /// <summary>
        /// Row r's deltas at both outputs, scaled: with e = exp(−ℓ) and δ = μ − y, dμ = δ·e, dℓ = ½ − ½·δ²·e, and
        /// through tanh dz = dℓ·(1 − ℓ²).
        /// </summary>
        private void OutputDeltas(T[] output, T[] target, int r, T scale, T[] dOut)
        {
            var (vScale, half) = (Vector256.Create(scale), Vector256.Create(T.CreateTruncating(0.5)));
            for (int i = 0; i < widthPadded; i += Lanes)
            {
                var delta = Load(output, Out(0, r) + i) - Load(target, i);
                var l = Tanh(Load(output, Out(1, r) + i));
                var e = Exp(-l);
                Store(delta * e * vScale, dOut, Out(0, r) + i);
                var dLogVar = (half - half * delta * delta * e) * vScale;
                Store(dLogVar * (Vector256<T>.One - l * l), dOut, Out(1, r) + i);
            }
        }

        /// <summary>Adds branch b's parameter gradients for the group's rows, given the deltas at its output.</summary>
        private void Backward(int b, T[] x, ReadOnlySpan<int> rows, T[] act, T[] dOut, T[] dHidden, T[] gradient)
        {
            var g = gradient.AsSpan(b * gradBranch, gradBranch);
            for (int i = 0; i < widthPadded; i += Lanes)
            {
                var (d0, d1, d2, d3) = (Load(dOut, Out(b, 0) + i), Load(dOut, Out(b, 1) + i), Load(dOut, Out(b, 2) + i), Load(dOut, Out(b, 3) + i));
                Store(Load(g, gradB2 + i) + ((d0 + d1) + (d2 + d3)), g, gradB2 + i);
                for (int j = 0; j < hidden; j++)
                    Accumulate(g, gradW2 + j * widthPadded + i, act, Act(b, 0) + j, Act(b, 1) + j, Act(b, 2) + j, Act(b, 3) + j, d0, d1, d2, d3);
            }
            for (int i = 0; i < hiddenPadded; i += Lanes)
            {
                // Through L2, then ReLU's backward: the activation is positive exactly where its input was.
                var (s0, s1, s2, s3) = Combination(dOut, Out(b, 0), Out(b, 1), Out(b, 2), Out(b, 3), width, w2[b], hiddenPadded, i, Vector256<T>.Zero);
                var d0 = Vector256.ConditionalSelect(Vector256.GreaterThan(Load(act, Act(b, 0) + i), Vector256<T>.Zero), s0, Vector256<T>.Zero);
                var d1 = Vector256.ConditionalSelect(Vector256.GreaterThan(Load(act, Act(b, 1) + i), Vector256<T>.Zero), s1, Vector256<T>.Zero);
                var d2 = Vector256.ConditionalSelect(Vector256.GreaterThan(Load(act, Act(b, 2) + i), Vector256<T>.Zero), s2, Vector256<T>.Zero);
                var d3 = Vector256.ConditionalSelect(Vector256.GreaterThan(Load(act, Act(b, 3) + i), Vector256<T>.Zero), s3, Vector256<T>.Zero);
                Store(Load(g, gradB1 + i) + ((d0 + d1) + (d2 + d3)), g, gradB1 + i);
                for (int k = 0; k < width; k++)
                    Accumulate(g, gradW1 + k * hiddenPadded + i, x, rows[0] * width + k, rows[1] * width + k, rows[2] * width + k, rows[3] * width + k, d0, d1, d2, d3);
            }
        }

        /// <summary>g[at ..] += Σ_r c[o_r] · d_r over the group's four rows: one load and one store of g.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Accumulate(Span<T> g, int at, T[] c, int o0, int o1, int o2, int o3,
            Vector256<T> d0, Vector256<T> d1, Vector256<T> d2, Vector256<T> d3) =>
            Store(Load(g, at) + ((Vector256.Create(c[o0]) * d0 + Vector256.Create(c[o1]) * d1) + (Vector256.Create(c[o2]) * d2 + Vector256.Create(c[o3]) * d3)), g, at);

        /// <summary>
        /// For the group's four rows, start + Σ_k c[o_r + k] · matrix[k·stride + i ..] (one vector at column i): each
        /// matrix vector loaded once serves the four rows, whose four accumulators are independent.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (Vector256<T>, Vector256<T>, Vector256<T>, Vector256<T>) Combination(T[] c, int o0, int o1, int o2, int o3, int length,
            T[] matrix, int stride, int i, Vector256<T> start)
        {
            Vector256<T> v0 = start, v1 = start, v2 = start, v3 = start;
            for (int k = 0; k < length; k++)
            {
                var column = Load(matrix, k * stride + i);
                v0 += Vector256.Create(c[o0 + k]) * column;
                v1 += Vector256.Create(c[o1 + k]) * column;
                v2 += Vector256.Create(c[o2 + k]) * column;
                v3 += Vector256.Create(c[o3 + k]) * column;
            }
            return (v0, v1, v2, v3);
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
