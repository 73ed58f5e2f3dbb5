using System.Numerics;
using System.Runtime.InteropServices;
using Engine.Cpu;

namespace Engine.Tests;

/// <summary>
/// The managed GEMM against a naive triple loop in double, across kernels, transposes, element types, awkward shapes
/// and strides; and against OpenBLAS where it loads.
/// </summary>
public class GemmTests
{
    /// <summary>
    /// (m, n, k): empty, tiny and odd; one full tile; several kc slices of k; narrow C (A read in place) over several
    /// row blocks; C wide enough to pack A, over several row blocks, or several kc slices; wider than one nc panel.
    /// </summary>
    // Empty and tiny products, edge tiles, k past one slice of 512 (β must apply once), C narrow (A read in place),
    // short and wide (computed as its transpose), and wider than one panel of B.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (0, 5, 3), (4, 0, 3), (3, 4, 0), (0, 0, 0), (1, 17, 1), (7, 13, 5), (13, 7, 5), (65, 33, 129),
        (6, 32, 256), (31, 70, 600), (530, 3, 540), (520, 260, 16), (6, 800, 260), (3, 4100, 5),
    ];

    private static readonly (double Alpha, double Beta)[] Scalars = [(1, 0), (0.5, -1.25), (-2, 1), (0, 0.75)];

    public static TheoryData<string, bool, bool, string> KernelCases()
    {
        var data = new TheoryData<string, bool, bool, string>();
        foreach (var kernel in Enum.GetNames<ManagedGemm.Kernel>())
            foreach (var type in new[] { "float", "double" })
                foreach (var (ta, tb) in Transposes)
                    data.Add(kernel, ta, tb, type);
        return data;
    }

    public static TheoryData<bool, bool, string> TransposeCases()
    {
        var data = new TheoryData<bool, bool, string>();
        foreach (var type in new[] { "float", "double" })
            foreach (var (ta, tb) in Transposes)
                data.Add(ta, tb, type);
        return data;
    }

    private static readonly (bool, bool)[] Transposes = [(false, false), (true, false), (false, true), (true, true)];

    [Theory]
    [MemberData(nameof(KernelCases))]
    public void ManagedMatchesReference(string kernel, bool transA, bool transB, string type)
    {
        var kind = Enum.Parse<ManagedGemm.Kernel>(kernel);
        if (type == "float") CheckAgainstReference<float>(kind, transA, transB);
        else CheckAgainstReference<double>(kind, transA, transB);
    }

    private static void CheckAgainstReference<T>(ManagedGemm.Kernel kernel, bool transA, bool transB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!ManagedGemm.IsSupported<T>(kernel))
            Assert.Skip($"the {kernel} kernel does not run for {typeof(T).Name} on this machine");
        var rng = new Random(42);
        for (int shape = 0; shape < Shapes.Length; shape++)
        {
            // Every other shape pads its rows, so strides longer than a row are covered too.
            var (m, n, k) = Shapes[shape];
            int pad = shape % 2 * 3;
            var p = Problem<T>.Random(rng, transA, transB, m, n, k, pad);
            foreach (var (alpha, beta) in Scalars)
            {
                var c = (T[])p.C.Clone();
                ManagedGemm.Gemm(kernel, Environment.ProcessorCount, transA, transB, m, n, k,
                    T.CreateTruncating(alpha), p.A, p.Lda, p.B, p.Ldb, T.CreateTruncating(beta), c, p.Ldc);
                p.AssertClose(c, alpha, beta, $"{kernel} {m}×{n}×{k} pad {pad} α={alpha} β={beta}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases))]
    public void BetaZeroIgnoresNaNInC(string kernel, bool transA, bool transB, string type)
    {
        var kind = Enum.Parse<ManagedGemm.Kernel>(kernel);
        if (type == "float") CheckBetaZeroOverNaN<float>(kind, transA, transB);
        else CheckBetaZeroOverNaN<double>(kind, transA, transB);
    }

    private static void CheckBetaZeroOverNaN<T>(ManagedGemm.Kernel kernel, bool transA, bool transB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!ManagedGemm.IsSupported<T>(kernel))
            Assert.Skip($"the {kernel} kernel does not run for {typeof(T).Name} on this machine");
        var rng = new Random(7);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 13, 5), (65, 33, 129), (20, 20, 0), (31, 70, 300) })
        {
            var p = Problem<T>.Random(rng, transA, transB, m, n, k, pad: 2);
            Array.Fill(p.C, T.NaN);
            var c = (T[])p.C.Clone();
            ManagedGemm.Gemm(kernel, Environment.ProcessorCount, transA, transB, m, n, k,
                T.CreateTruncating(1.5), p.A, p.Lda, p.B, p.Ldb, T.Zero, c, p.Ldc);
            p.AssertClose(c, 1.5, 0, $"{kernel} {m}×{n}×{k} over NaN");
        }
    }

    [Theory]
    [MemberData(nameof(TransposeCases))]
    public void ManagedIsDeterministicWhateverTheThreadCount(bool transA, bool transB, string type)
    {
        if (type == "float") Deterministic<float>(transA, transB);
        else Deterministic<double>(transA, transB);
    }

    private static void Deterministic<T>(bool transA, bool transB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = ManagedGemm.BestKernel<T>();
        // Both big enough to be shared out among threads: by row blocks, and (short and wide) by column strips.
        foreach (var (m, n, k) in new[] { (150, 100, 300), (8, 1500, 400) })
        {
            var p = Problem<T>.Random(new Random(3), transA, transB, m, n, k, pad: 1);
            T[] Run(int threads)
            {
                var c = (T[])p.C.Clone();
                ManagedGemm.Gemm(kernel, threads, transA, transB, m, n, k, T.CreateTruncating(0.75), p.A, p.Lda, p.B, p.Ldb, T.CreateTruncating(0.5), c, p.Ldc);
                return c;
            }
            var first = Run(Environment.ProcessorCount);
            p.AssertClose(first, 0.75, 0.5, $"{m}×{n}×{k} on {Environment.ProcessorCount} threads");
            Assert.Equal(first, Run(Environment.ProcessorCount));
            Assert.Equal(first, Run(1));
            Assert.Equal(first, Run(3));
            // And through the public entry point.
            var c = (T[])p.C.Clone();
            ManagedGemm.Gemm(transA, transB, m, n, k, T.CreateTruncating(0.75), p.A, p.Lda, p.B, p.Ldb, T.CreateTruncating(0.5), c, p.Ldc);
            Assert.Equal(first, c);
        }
    }

    [Theory]
    [MemberData(nameof(TransposeCases))]
    public void OpenBlasAgreesWithManaged(bool transA, bool transB, string type)
    {
        if (!OpenBlas.IsAvailable)
            Assert.Skip($"OpenBLAS is not available: {OpenBlas.Description}");
        if (type == "float") OpenBlasAgrees<float>(transA, transB);
        else OpenBlasAgrees<double>(transA, transB);
    }

    private static void OpenBlasAgrees<T>(bool transA, bool transB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(11);
        foreach (var (m, n, k) in Shapes)
        {
            var p = Problem<T>.Random(rng, transA, transB, m, n, k, pad: 1);
            foreach (var (alpha, beta) in Scalars)
            {
                var c0 = (T[])p.C.Clone();
                if (beta == 0)
                    for (int i = 0; i < m; i++) c0.AsSpan(i * p.Ldc, n).Fill(T.NaN);
                var managed = (T[])c0.Clone();
                var blas = (T[])c0.Clone();
                var (a, b) = (T.CreateTruncating(alpha), T.CreateTruncating(beta));
                ManagedGemm.Gemm(transA, transB, m, n, k, a, p.A, p.Lda, p.B, p.Ldb, b, managed, p.Ldc);
                OpenBlas.Gemm(transA, transB, m, n, k, a, p.A, p.Lda, p.B, p.Ldb, b, blas, p.Ldc);
                p.AssertClose(blas, alpha, beta, $"OpenBLAS {m}×{n}×{k} α={alpha} β={beta}");
                p.AssertClose(managed, blas, alpha, beta, $"managed vs OpenBLAS {m}×{n}×{k} α={alpha} β={beta}");
            }
        }
    }

    [Fact]
    public void KernelsOfEveryWidthAgreeBitForBit()
    {
        // Each element is the same chain of fused multiply-adds whichever vector width computes it.
        foreach (var (ta, tb) in Transposes)
        {
            SameBits<float>(ta, tb);
            SameBits<double>(ta, tb);
        }
    }

    private static void SameBits<T>(bool transA, bool transB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!ManagedGemm.IsSupported<T>(ManagedGemm.Kernel.Vector512) || !ManagedGemm.IsSupported<T>(ManagedGemm.Kernel.Vector256))
            Assert.Skip("this machine lacks 256- or 512-bit vectors");
        foreach (var (m, n, k) in new[] { (65, 33, 129), (31, 70, 300), (6, 800, 260) })
        {
            var p = Problem<T>.Random(new Random(5), transA, transB, m, n, k, pad: 2);
            var c256 = (T[])p.C.Clone();
            var c512 = (T[])p.C.Clone();
            var (alpha, beta) = (T.CreateTruncating(0.75), T.CreateTruncating(-0.5));
            ManagedGemm.Gemm(ManagedGemm.Kernel.Vector256, 2, transA, transB, m, n, k, alpha, p.A, p.Lda, p.B, p.Ldb, beta, c256, p.Ldc);
            ManagedGemm.Gemm(ManagedGemm.Kernel.Vector512, 2, transA, transB, m, n, k, alpha, p.A, p.Lda, p.B, p.Ldb, beta, c512, p.Ldc);
            Assert.Equal(c256, c512);
        }
    }

    [Fact]
    public void ShortWideProductsGiveTheBitsOfTheirTransposes()
    {
        // C = op(A)·op(B) short and wide is computed as its transpose inside; computing Cᵀ = op(B)ᵀ·op(A)ᵀ from outside
        // (tall and narrow, the plain order) must give the same bits, β's share included.
        foreach (var (ta, tb) in Transposes)
        {
            TransposeSameBits<float>(ta, tb);
            TransposeSameBits<double>(ta, tb);
        }
    }

    private static void TransposeSameBits<T>(bool transA, bool transB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = 40, n = 700, k = 300;
        var p = Problem<T>.Random(new Random(6), transA, transB, m, n, k, pad: 1);
        var (alpha, beta) = (T.CreateTruncating(0.75), T.CreateTruncating(-0.5));
        var c = (T[])p.C.Clone();
        ManagedGemm.Gemm(transA, transB, m, n, k, alpha, p.A, p.Lda, p.B, p.Ldb, beta, c, p.Ldc);
        p.AssertClose(c, 0.75, -0.5, $"{m}×{n}×{k}");

        var ct = new T[n * m];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) ct[j * m + i] = p.C[i * p.Ldc + j];
        ManagedGemm.Gemm(!transB, !transA, n, m, k, alpha, p.B, p.Ldb, p.A, p.Lda, beta, ct, m);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(ct[j * m + i], c[i * p.Ldc + j]);
    }

    [Fact]
    public void OtherElementTypesUseTheScalarKernel()
    {
        foreach (var (ta, tb) in Transposes)
        {
            var p = Problem<Half>.Random(new Random(9), ta, tb, 7, 13, 5, pad: 1);
            var c = (Half[])p.C.Clone();
            ManagedGemm.Gemm(ta, tb, 7, 13, 5, (Half)0.5, p.A, p.Lda, p.B, p.Ldb, (Half)(-1), c, p.Ldc);
            p.AssertClose(c, 0.5, -1, "Half");
        }
    }

    [Fact]
    public void OpenBlasDescribesItself()
    {
        Assert.False(string.IsNullOrWhiteSpace(OpenBlas.Description));
        if (OpenBlas.IsAvailable) Assert.Contains("OpenBLAS", OpenBlas.Description);
    }

    [Fact]
    public void OpenBlasIsAskedForItsShortestThreadSpin()
    {
        if (!OpenBlas.IsAvailable) Assert.Skip($"OpenBLAS is not available: {OpenBlas.Description}");
        // What the C library's environment holds once OpenBLAS has loaded (the runner's own setting wins, if any).
        string want = Environment.GetEnvironmentVariable(OpenBlas.ThreadTimeoutVariable) ?? "4";
        Assert.Equal(want, Marshal.PtrToStringUTF8(GetEnv(OpenBlas.ThreadTimeoutVariable)));
    }

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [Fact]
    public void BadStridesAndShortArraysAreRefused()
    {
        var a = new float[6];
        var b = new float[6];
        var c = new float[4];
        // 2×3 · 3×2 fits exactly.
        ManagedGemm.Gemm(false, false, 2, 2, 3, 1f, a, 3, b, 2, 0f, c, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => ManagedGemm.Gemm(false, false, 2, 2, 3, 1f, a, 2, b, 2, 0f, c, 2));
        Assert.Throws<ArgumentException>(() => ManagedGemm.Gemm(false, false, 2, 2, 3, 1f, a, 4, b, 2, 0f, c, 2));
        Assert.Throws<ArgumentException>(() => ManagedGemm.Gemm(true, false, 2, 2, 3, 1f, a, 3, b, 2, 0f, c, 2));
        Assert.Throws<ArgumentException>(() => ManagedGemm.Gemm(false, false, 2, 2, 3, 1f, a, 3, b, 2, 0f, new float[3], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ManagedGemm.Gemm(false, false, -1, 2, 3, 1f, a, 3, b, 2, 0f, c, 2));
        if (OpenBlas.IsAvailable)
            Assert.Throws<ArgumentException>(() => OpenBlas.Gemm(false, false, 2, 2, 3, 1f, a, 4, b, 2, 0f, c, 2));
    }

    [Fact]
    public void SpansOfLargerArraysAreBoundedByTheSpan()
    {
        // C's rows 1..2 of a 4×2 array, from rows 1..2 of A (4×3): the rows outside are neither read into C nor written.
        var a = new float[] { 9, 9, 9, 1, 2, 3, 4, 5, 6, 9, 9, 9 };
        var b = new float[] { 1, 0, 0, 1, 1, 1 };
        var c = new float[8];
        var kernel = ManagedGemm.BestKernel<float>();
        ManagedGemm.Gemm(kernel, 1, false, false, 2, 2, 3, 1f, a.AsSpan(3, 6), 3, b, 2, 0f, c.AsSpan(2, 4), 2);
        Assert.Equal([0, 0, 4, 5, 10, 11, 0, 0], c);
        // The same product needs 6 elements of A: a 5-element slice is refused, though the array goes on.
        Assert.Throws<ArgumentException>(() => ManagedGemm.Gemm(kernel, 1, false, false, 2, 2, 3, 1f, a.AsSpan(3, 5), 3, b, 2, 0f, c.AsSpan(2, 4), 2));
        Assert.Throws<ArgumentException>(() => ManagedGemm.Gemm(kernel, 1, false, false, 2, 2, 3, 1f, a.AsSpan(3, 6), 3, b, 2, 0f, c.AsSpan(2, 3), 2));
    }

    /// <summary>Random operands with row strides padded by <c>pad</c>, and the double-precision answer to check against.</summary>
    private sealed class Problem<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public required bool TransA, TransB;
        public required int M, N, K, Lda, Ldb, Ldc;
        public required T[] A, B, C;

        public static Problem<T> Random(Random rng, bool transA, bool transB, int m, int n, int k, int pad)
        {
            int rowsA = transA ? k : m, colsA = transA ? m : k;
            int rowsB = transB ? n : k, colsB = transB ? k : n;
            int lda = colsA + pad, ldb = colsB + pad, ldc = n + pad;
            return new Problem<T>
            {
                TransA = transA, TransB = transB, M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc,
                A = Fill(rng, rowsA * lda), B = Fill(rng, rowsB * ldb), C = Fill(rng, m * ldc),
            };
        }

        private static T[] Fill(Random rng, int length)
        {
            var x = new T[length];
            for (int i = 0; i < length; i++) x[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
            return x;
        }

        // Σ_p op(A)(i,p)·op(B)(p,j) and Σ_p |op(A)(i,p)·op(B)(p,j)| in double, m×n, computed on first use.
        private (double[] Sum, double[] Abs)? _dots;

        private (double[] Sum, double[] Abs) Dots()
        {
            if (_dots is { } done) return done;
            var opA = new double[M * K];
            var opBt = new double[N * K];
            for (int i = 0; i < M; i++)
                for (int p = 0; p < K; p++)
                    opA[i * K + p] = double.CreateTruncating(TransA ? A[p * Lda + i] : A[i * Lda + p]);
            for (int j = 0; j < N; j++)
                for (int p = 0; p < K; p++)
                    opBt[j * K + p] = double.CreateTruncating(TransB ? B[j * Ldb + p] : B[p * Ldb + j]);
            var (sum, abs) = (new double[M * N], new double[M * N]);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++)
                {
                    var x = opA.AsSpan(i * K, K);
                    var y = opBt.AsSpan(j * K, K);
                    double s = 0, a = 0;
                    for (int p = 0; p < K; p++)
                    {
                        double prod = x[p] * y[p];
                        s += prod;
                        a += Math.Abs(prod);
                    }
                    (sum[i * N + j], abs[i * N + j]) = (s, a);
                }
            _dots = (sum, abs);
            return (sum, abs);
        }

        /// <summary>
        /// The exact-ish answer at (i, j) and the scale of its rounding error: Σ|α·a·b| + |β·c|. α = 0 or β = 0 drop
        /// their term entirely, as BLAS does, so NaN in C never reaches a β = 0 result.
        /// </summary>
        private (double Value, double Scale) Reference(int i, int j, double alpha, double beta)
        {
            var (sums, abss) = Dots();
            double sum = sums[i * N + j], abs = abss[i * N + j];
            double c = double.CreateTruncating(C[i * Ldc + j]);
            double value = (alpha == 0 ? 0 : alpha * sum) + (beta == 0 ? 0 : beta * c);
            double scale = Math.Abs(alpha) * abs + (beta == 0 ? 0 : Math.Abs(beta * c));
            return (value, scale);
        }

        private static double Tolerance => typeof(T) == typeof(float) ? 1e-4 : typeof(T) == typeof(double) ? 1e-12 : 1e-2;

        public void AssertClose(T[] actual, double alpha, double beta, string what)
        {
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++)
                {
                    var (want, scale) = Reference(i, j, alpha, beta);
                    double got = double.CreateTruncating(actual[i * Ldc + j]);
                    if (!(Math.Abs(got - want) <= Tolerance * scale + 1e-30))
                        Assert.Fail($"{what}, transA={TransA} transB={TransB}, {typeof(T).Name}: C[{i},{j}] = {got}, expected {want} (scale {scale})");
                }
            AssertPaddingUntouched(actual, what);
        }

        /// <summary>Compares two results with each other, to the tolerance the reference would allow.</summary>
        public void AssertClose(T[] actual, T[] expected, double alpha, double beta, string what)
        {
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++)
                {
                    var (_, scale) = Reference(i, j, alpha, beta);
                    double got = double.CreateTruncating(actual[i * Ldc + j]), want = double.CreateTruncating(expected[i * Ldc + j]);
                    if (!(Math.Abs(got - want) <= Tolerance * scale + 1e-30))
                        Assert.Fail($"{what}, transA={TransA} transB={TransB}, {typeof(T).Name}: C[{i},{j}] = {got} vs {want} (scale {scale})");
                }
        }

        /// <summary>The padding past each row of C is not part of C and must come back as it went in.</summary>
        private void AssertPaddingUntouched(T[] actual, string what)
        {
            for (int i = 0; i < M; i++)
                for (int j = N; j < Ldc; j++)
                    if (!actual[i * Ldc + j].Equals(C[i * Ldc + j]))
                        Assert.Fail($"{what}: the padding C[{i},{j}] past row {i} was written");
        }
    }
}
