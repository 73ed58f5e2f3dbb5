namespace Engine.Autograd;

/// <summary>A problem for the gradient checker: float64 inputs that require gradients, and the loss over them.</summary>
public sealed record GradCheckProblem(IReadOnlyList<Var> Inputs, Func<Var> Loss);

/// <summary>A named, reproducible gradient check: builds its problem on a backend from a seeded generator.</summary>
public sealed record GradCheckCase(string Name, Func<Backend, Rng, GradCheckProblem> Build)
{
    /// <summary>The seed <see cref="Run"/> builds the problem from unless told otherwise.</summary>
    public const ulong DefaultSeed = 999;

    public GradCheckResult Run(Backend backend, ulong seed = DefaultSeed)
    {
        var problem = Build(backend, new Rng(seed));
        return GradCheck.Check(Name, problem.Loss, problem.Inputs);
    }
}

/// <summary>
/// One gradient check per differentiable op and loss, on small random float64 inputs. Inputs are kept away from
/// the points where an op is not differentiable (0 for ReLU, ties for max) or not defined (≤ 0 for log and sqrt).
/// Model losses register their own cases beside the models.
/// </summary>
public static class OpGradCheckCases
{
    private const DType F64 = DType.Float64;

    public static IReadOnlyList<GradCheckCase> All { get; } = Build();

    private static IReadOnlyList<GradCheckCase> Build()
    {
        var cases = new List<GradCheckCase>();

        // One input, output shaped like it, probed by a weighted sum.
        void Unary(string name, Func<Var, Var> op, Func<Backend, Rng, Tensor> input) =>
            cases.Add(new(name, (b, rng) =>
            {
                var x = Var.Parameter(input(b, rng), "x");
                var (rows, cols) = OutputShape(() => op(x));
                var w = b.Normal(rows, cols, F64, rng);
                return new([x], () => GradCheck.Probe(op(x), w));
            }));

        Tensor Any(Backend b, Rng rng) => b.Normal(4, 5, F64, rng);
        Tensor Positive(Backend b, Rng rng) => b.Uniform(4, 5, F64, rng, 0.5, 2);
        Tensor AwayFromZero(Backend b, Rng rng) => AwayFromZeroOf(b, rng, 4, 5);

        Unary("neg", x => x.Neg(), Any);
        Unary("scale_by_constant", x => x.Scale(-1.7), Any);
        Unary("add_constant", x => x.AddScalar(0.3), Any);
        Unary("exp", x => x.Exp(), Any);
        Unary("log", x => x.Log(), Positive);
        Unary("sigmoid", x => x.Sigmoid(), Any);
        Unary("log_sigmoid", x => x.LogSigmoid(), (b, rng) => b.Normal(4, 5, F64, rng, 0, 4));
        Unary("tanh", x => x.Tanh(), Any);
        Unary("relu", x => x.Relu(), AwayFromZero);
        Unary("leaky_relu", x => x.LeakyRelu(0.01), AwayFromZero);
        Unary("square", x => x.Square(), Any);
        Unary("sqrt", x => x.Sqrt(), Positive);

        // Two inputs, in every broadcast shape of the second.
        foreach (var (op, name) in new (Func<Var, Var, Var>, string)[]
                 { ((a, c) => a + c, "add"), ((a, c) => a - c, "sub"), ((a, c) => a * c, "mul"), ((a, c) => a / c, "div") })
        {
            foreach (var (rows, cols, shape) in new[] { (4, 5, "same_shape"), (1, 5, "row_broadcast"), (4, 1, "column_broadcast"), (1, 1, "1x1") })
            {
                cases.Add(new($"{name}_{shape}", (b, rng) =>
                {
                    var a = Var.Parameter(b.Normal(4, 5, F64, rng), "a");
                    var c = Var.Parameter(AwayFromZeroOf(b, rng, rows, cols, low: 0.5), "b");
                    var w = b.Normal(4, 5, F64, rng);
                    return new([a, c], () => GradCheck.Probe(op(a, c), w));
                }));
            }
        }

        // Reductions.
        foreach (var dim in new int?[] { null, 0, 1 })
        {
            string suffix = dim is null ? "all" : $"dim{dim}";
            Unary($"sum_{suffix}", x => x.Sum(dim), Any);
            Unary($"mean_{suffix}", x => x.Mean(dim), Any);
            Unary($"max_{suffix}", x => x.Max(dim), Any);
        }
        Unary("log_sum_exp_rows", x => x.LogSumExpRows(), (b, rng) => b.Normal(4, 5, F64, rng, 0, 3));

        // Products.
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            cases.Add(new($"matmul{(ta ? "_ta" : "")}{(tb ? "_tb" : "")}", (b, rng) =>
            {
                var a = Var.Parameter(ta ? b.Normal(3, 4, F64, rng) : b.Normal(4, 3, F64, rng), "a");
                var c = Var.Parameter(tb ? b.Normal(5, 3, F64, rng) : b.Normal(3, 5, F64, rng), "b");
                var w = b.Normal(4, 5, F64, rng);
                return new([a, c], () => GradCheck.Probe(a.MatMul(c, ta, tb), w));
            }));
        }
        cases.Add(new("spmm", (b, rng) =>
        {
            var sparse = RandomSparse(b, rng, 6, 5, density: 0.4);
            var x = Var.Parameter(b.Normal(5, 3, F64, rng), "x");
            var w = b.Normal(6, 3, F64, rng);
            return new([x], () => GradCheck.Probe(sparse.Spmm(x), w));
        }));

        // Rows and columns.
        cases.Add(new("gather_rows", (b, rng) =>
        {
            var x = Var.Parameter(b.Normal(5, 3, F64, rng), "x");
            var index = b.FromArray(new[] { 4, 0, 4, 2, 1, 4 }, 6, 1);
            var w = b.Normal(6, 3, F64, rng);
            return new([x], () => GradCheck.Probe(x.GatherRows(index), w));
        }));
        cases.Add(new("scatter_add_rows", (b, rng) =>
        {
            var x = Var.Parameter(b.Normal(6, 3, F64, rng), "x");
            var index = b.FromArray(new[] { 1, 3, 1, 0, 3, 3 }, 6, 1);
            var w = b.Normal(5, 3, F64, rng);
            return new([x], () => GradCheck.Probe(x.ScatterAddRows(index, 5), w));
        }));
        cases.Add(new("concat_columns", (b, rng) =>
        {
            var x = Var.Parameter(b.Normal(4, 2, F64, rng), "x");
            var y = Var.Parameter(b.Normal(4, 3, F64, rng), "y");
            var w = b.Normal(4, 5, F64, rng);
            return new([x, y], () => GradCheck.Probe(Ops.ConcatColumns(x, y), w));
        }));
        cases.Add(new("concat_rows", (b, rng) =>
        {
            var x = Var.Parameter(b.Normal(2, 3, F64, rng), "x");
            var y = Var.Parameter(b.Normal(4, 3, F64, rng), "y");
            var w = b.Normal(6, 3, F64, rng);
            return new([x, y], () => GradCheck.Probe(Ops.ConcatRows(x, y), w));
        }));
        Unary("slice_columns", x => x.SliceColumns(1, 3), Any);
        Unary("slice_rows", x => x.SliceRows(1, 2), Any);
        Unary("row_l2_normalize", x => x.RowL2Normalize(), Any);
        Unary("softmax_rows", x => x.SoftmaxRows(), Any);
        Unary("log_softmax_rows", x => x.LogSoftmaxRows(), Any);
        cases.Add(new("batch_norm", (b, rng) =>
        {
            var x = Var.Parameter(b.Normal(6, 3, F64, rng, 1, 2), "x");
            var gamma = Var.Parameter(b.Uniform(1, 3, F64, rng, 0.5, 1.5), "gamma");
            var beta = Var.Parameter(b.Normal(1, 3, F64, rng), "beta");
            var w = b.Normal(6, 3, F64, rng);
            return new([x, gamma, beta], () => GradCheck.Probe(x.BatchNorm(gamma, beta), w));
        }));

        // Losses.
        foreach (var base2 in new[] { false, true })
        {
            cases.Add(new(base2 ? "bpr_log2" : "bpr", (b, rng) =>
            {
                var pos = Var.Parameter(b.Normal(7, 1, F64, rng), "pos");
                var neg = Var.Parameter(b.Normal(7, 1, F64, rng), "neg");
                return new([pos, neg], () => Losses.Bpr(pos, neg, base2));
            }));
        }
        cases.Add(new("bpr_epsilon", (b, rng) =>
        {
            var pos = Var.Parameter(b.Normal(7, 1, F64, rng, 0, 3), "pos");
            var neg = Var.Parameter(b.Normal(7, 1, F64, rng, 0, 3), "neg");
            return new([pos, neg], () => Losses.BprWithEpsilon(pos, neg));
        }));
        foreach (var symmetric in new[] { false, true })
        {
            cases.Add(new(symmetric ? "info_nce_symmetric" : "info_nce", (b, rng) =>
            {
                var anchors = Var.Parameter(b.Normal(5, 3, F64, rng), "anchors");
                var candidates = Var.Parameter(b.Normal(5, 3, F64, rng), "candidates");
                return new([anchors, candidates], () => Losses.InfoNce(anchors.RowL2Normalize(), candidates.RowL2Normalize(), 0.2, symmetric));
            }));
        }
        cases.Add(new("gaussian_log_likelihood", (b, rng) =>
        {
            var mu = Var.Parameter(b.Normal(5, 3, F64, rng), "mu");
            var logVar = Var.Parameter(b.Normal(5, 3, F64, rng, 0, 0.5), "logvar");
            var y = Var.Parameter(b.Normal(5, 3, F64, rng), "y");
            return new([mu, logVar, y], () => Losses.GaussianLogLikelihood(mu, logVar, y));
        }));
        cases.Add(new("club_upper_bound", (b, rng) =>
        {
            // μ close to y, so that the shuffled pairs are farther apart than the true ones and the bound is active (> 0).
            var y = Var.Parameter(b.Normal(5, 3, F64, rng), "y");
            var mu = Var.Parameter(b.FromDoubles(y.Value.ToArray<double>().Select(v => v + 0.1 * rng.Normal()).ToArray(), 5, 3, F64), "mu");
            var logVar = Var.Parameter(b.Normal(5, 3, F64, rng, 0, 0.3), "logvar");
            var permutation = b.FromArray(new[] { 3, 0, 4, 1, 2 }, 5, 1);
            return new([mu, logVar, y], () => Losses.ClubUpperBound(mu, logVar, y, permutation));
        }));
        cases.Add(new("club_fit", (b, rng) =>
        {
            // CLUB's width-32, hidden-8 network (the widths CUDA's kernel takes) on 2 pairs of 3 rows.
            var layout = new ClubLayout(32, 8);
            var x = b.Normal(6, layout.Width, F64, rng);
            var y = b.Normal(6, layout.Width, F64, rng);
            var q = Var.Parameter(b.Normal(1, layout.Length, F64, rng, 0, 0.3), "q");
            return new([q], () => ClubFitCheck.Loss(q, x, y, pairs: 2, layout));
        }));
        cases.Add(new("normalized_info_nce", (b, rng) =>
        {
            var anchors = Var.Parameter(b.Normal(5, 3, F64, rng), "anchors");
            var candidates = Var.Parameter(b.Normal(5, 3, F64, rng), "candidates");
            return new([anchors, candidates], () => Losses.NormalizedInfoNce(anchors, candidates, 0.2));
        }));
        cases.Add(new("half_squared_norms", (b, rng) =>
        {
            var x = Var.Parameter(b.Normal(4, 3, F64, rng), "x");
            var y = Var.Parameter(b.Normal(4, 3, F64, rng), "y");
            return new([x, y], () => Losses.HalfSquaredNorms(8, x, y));
        }));
        cases.Add(new("cosine_distance", (b, rng) =>
        {
            var x = Var.Parameter(b.Normal(4, 3, F64, rng), "a");
            var y = Var.Parameter(b.Normal(4, 3, F64, rng), "b");
            return new([x, y], () => Losses.CosineDistance(x, y));
        }));
        cases.Add(new("similarity_preservation", (b, rng) =>
        {
            var h = Var.Parameter(b.Normal(4, 3, F64, rng), "h");
            var target = Var.Constant(b.Normal(4, 4, F64, rng), "target");
            return new([h], () => Losses.SimilarityPreservation(h, target));
        }));
        cases.Add(new("mean_squared_error", (b, rng) =>
        {
            var x = Var.Parameter(b.Normal(4, 3, F64, rng), "a");
            var y = Var.Parameter(b.Normal(4, 3, F64, rng), "b");
            return new([x, y], () => Losses.MeanSquaredError(x, y));
        }));
        return cases;
    }

    private static (int Rows, int Cols) OutputShape(Func<Var> f)
    {
        using var scope = Tape.Begin();
        using var noGrad = Tape.NoGrad();
        var y = f();
        return (y.Rows, y.Cols);
    }

    /// <summary>Entries with |x| in [low, 1.5] and a random sign: far from 0, where ReLU bends and division fails.</summary>
    private static Tensor AwayFromZeroOf(Backend b, Rng rng, int rows, int cols, double low = 0.1)
    {
        var values = new double[rows * cols];
        for (int i = 0; i < values.Length; i++)
            values[i] = rng.Uniform(low, 1.5) * (rng.NextDouble() < 0.5 ? -1 : 1);
        return b.FromDoubles(values, rows, cols, F64);
    }

    /// <summary>A random sparse matrix with about <paramref name="density"/> of its entries set, in float64.</summary>
    public static CsrMatrix RandomSparse(Backend b, Rng rng, int rows, int cols, double density)
    {
        var dense = new double[rows * cols];
        for (int i = 0; i < dense.Length; i++)
            if (rng.NextDouble() < density) dense[i] = rng.Normal();
        return CsrMatrix.FromDense(b, dense, rows, cols, F64);
    }
}

/// <summary>
/// The gradient check of <see cref="Backend.ClubFit"/>: a node whose value is q's loss L(q) = −Σ_pairs mean_rows
/// Σ_k [−(μ − y)² / (2·exp(ℓ)) − ℓ/2], written out here on the host, and whose backward is the gradient the fused fit
/// follows. One Adam step with β₁ = β₂ = 0 and lr = ε = 1e12 moves each parameter by −g·(1 − |g|·1e-12), so q − q'
/// after one step of the fit is its gradient.
/// </summary>
internal static class ClubFitCheck
{
    public static Var Loss(Var q, Tensor x, Tensor y, int pairs, ClubLayout layout)
    {
        var b = q.Backend;
        var loss = Tape.Output(b.FromDoubles([HostLoss(q.Value.ToArray<double>(), x.ToArray<double>(), y.ToArray<double>(), x.Rows / pairs, layout)], 1, 1, q.DType), q);
        Tape.Record(loss, () =>
        {
            using var stepped = b.Allocate(1, layout.Length, q.DType);
            using var m = b.Allocate(1, layout.Length, q.DType);
            using var v = b.Allocate(1, layout.Length, q.DType);
            using var gradient = b.Allocate(1, layout.Length, q.DType);
            b.Copy(q.Value, stepped);
            b.ClubFit(x, y, pairs, layout, stepped, m, v, steps: 1, step0: 0, lr: 1e12, beta1: 0, beta2: 0, eps: 1e12, weightDecay: 0);
            b.Binary(BinaryOp.Sub, q.Value, stepped, gradient);
            b.AddScaled(gradient, loss.Grad!.Item(), q.GradForAccumulation());
        });
        return loss;
    }

    private static double HostLoss(double[] q, double[] x, double[] y, int rowsPerPair, ClubLayout l)
    {
        double total = 0;
        for (int r = 0; r < x.Length / l.Width; r++)
        {
            double[] Branch(int branch)
            {
                int o = l.Branch(branch);
                var hidden = new double[l.Hidden];
                for (int h = 0; h < l.Hidden; h++)
                {
                    double z = q[o + l.Bias1 + h];
                    for (int k = 0; k < l.Width; k++) z += q[o + l.Weight1 + h * l.Width + k] * x[r * l.Width + k];
                    hidden[h] = Math.Max(z, 0);
                }
                var output = new double[l.Width];
                for (int k = 0; k < l.Width; k++)
                {
                    double z = q[o + l.Bias2 + k];
                    for (int h = 0; h < l.Hidden; h++) z += q[o + l.Weight2 + k * l.Hidden + h] * hidden[h];
                    output[k] = branch == 0 ? z : Math.Tanh(z);
                }
                return output;
            }
            double[] mu = Branch(0), logVariance = Branch(1);
            for (int k = 0; k < l.Width; k++)
            {
                double d = mu[k] - y[r * l.Width + k];
                total -= (-d * d / (2 * Math.Exp(logVariance[k])) - logVariance[k] / 2) / rowsPerPair;
            }
        }
        return total;
    }
}
