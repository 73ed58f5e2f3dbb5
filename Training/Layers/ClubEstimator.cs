using Engine.Autograd;
using Engine.Training.Checkpoints;
using Engine.Training.Optim;

namespace Engine.Training.Layers;

/// <summary>
/// CLUB (Cheng et al. 2020) as SEA trains it (SEA.md; MODELS.md L7), shared by SEA and its plug-ins. A variational
/// network q predicts y from x, μ(x) = L(ReLU(L(x))) and logvar(x) = tanh(L(ReLU(L(x)))). The model's loss takes
/// <see cref="Bound"/>, an upper bound of the mutual information of paired rows computed with q detached (it trains
/// the representations, not q). After the model's backward, <see cref="Fit"/> trains q alone, with its own Adam, on
/// the detached pairs the loss handed to <see cref="Keep"/>. Its state (q, its Adam, the generator of the bound's
/// permutations) is walked by <see cref="VisitState"/>.
/// </summary>
public sealed class ClubEstimator : IDisposable
{
    private readonly Linear mean1, mean2, logVar1, logVar2;
    private readonly Adam optimizer;
    private (Tensor X, Tensor Y, int Pairs)? kept;

    /// <summary>q for rows <paramref name="width"/> wide with <paramref name="hidden"/> hidden units, PyTorch's default init; then the permutations' seed, from <paramref name="rng"/>.</summary>
    public ClubEstimator(Backend backend, int width, int hidden, double learningRate, DType dtype, Rng rng)
    {
        Layout = new ClubLayout(width, hidden);
        mean1 = new Linear(backend, width, hidden, dtype, rng, "club.mu.0");
        mean2 = new Linear(backend, hidden, width, dtype, rng, "club.mu.2");
        logVar1 = new Linear(backend, width, hidden, dtype, rng, "club.logvar.0");
        logVar2 = new Linear(backend, hidden, width, dtype, rng, "club.logvar.2");
        optimizer = new Adam(Parameters, learningRate);
        PermutationRng = new Rng(rng.NextUInt64());
    }

    public ClubLayout Layout { get; }

    /// <summary>q's parameters, in <see cref="ClubLayout"/>'s packing order; trained only by <see cref="Fit"/>.</summary>
    public IReadOnlyList<Var> Parameters => [.. mean1.Parameters, .. mean2.Parameters, .. logVar1.Parameters, .. logVar2.Parameters];

    /// <summary>Draws the permutation of the rows at every evaluation of the bound.</summary>
    public Rng PermutationRng { get; }

    /// <summary>CLUB's bound for the paired rows of (x, y) (<see cref="Losses.ClubUpperBound"/>), q detached, with a fresh permutation.</summary>
    public Var Bound(Var x, Var y)
    {
        var mu = mean2.ForwardDetached(mean1.ForwardDetached(x).Relu());
        var logVariance = logVar2.ForwardDetached(logVar1.ForwardDetached(x).Relu()).Tanh();
        var (permutation, inverse) = y.Backend.PermutationAndInverse(y.Rows, PermutationRng);
        return Losses.ClubUpperBound(mu, logVariance, y, Tape.Scoped(permutation), Tape.Scoped(inverse));
    }

    /// <summary>Keeps detached copies of the pairs q is to be fitted on, stacked pair after pair (all pairs the same shape).</summary>
    public void Keep(params (Var X, Var Y)[] pairs)
    {
        kept ??= (Stacked(pairs.Length, pairs[0].X.Value), Stacked(pairs.Length, pairs[0].Y.Value), pairs.Length);
        var (x, y, _) = kept.Value;
        for (int p = 0; p < pairs.Length; p++)
        {
            var (px, py) = (pairs[p].X.Value, pairs[p].Y.Value);
            x.Backend.CopyBlock(px, 0, 0, x, p * px.Rows, 0, px.Rows, px.Cols, accumulate: false);
            y.Backend.CopyBlock(py, 0, 0, y, p * py.Rows, 0, py.Rows, py.Cols, accumulate: false);
        }

        static Tensor Stacked(int count, Tensor part) => part.Backend.Allocate(count * part.Rows, part.Cols, part.DType);
    }

    /// <summary>
    /// <paramref name="steps"/> steps of q's Adam on the kept pairs (nothing if none were kept): the parameters and
    /// moments are packed in <see cref="ClubLayout"/>'s order, fitted by one backend op (<see cref="Backend.ClubFit"/>,
    /// rather than about a hundred small ops per step), and unpacked.
    /// </summary>
    public void Fit(int steps)
    {
        if (kept is not { } pairs) return;
        var backend = pairs.X.Backend;
        var parameters = Parameters.Select(p => p.Value).ToArray();
        var moments = Enumerable.Range(0, parameters.Length).Select(optimizer.Moments).ToArray();
        Tensor[][] parts = [parameters, moments.Select(m => m.First).ToArray(), moments.Select(m => m.Second).ToArray()];
        var packed = parts.Select(_ => backend.Allocate(1, Layout.Length, pairs.X.DType)).ToArray();
        try
        {
            for (int i = 0; i < parts.Length; i++) ClubLayout.Pack(parts[i], packed[i]);
            backend.ClubFit(pairs.X, pairs.Y, pairs.Pairs, Layout, packed[0], packed[1], packed[2], steps, optimizer.StepCount,
                optimizer.LearningRate, optimizer.Beta1, optimizer.Beta2, optimizer.Eps, optimizer.WeightDecay);
            for (int i = 0; i < parts.Length; i++) ClubLayout.Unpack(packed[i], parts[i]);
            optimizer.CountSteps(steps);
        }
        finally
        {
            foreach (var t in packed) t.Dispose();
        }
    }

    /// <summary>q's parameters, its Adam and the permutations' generator.</summary>
    public void VisitState(IStateVisitor visitor)
    {
        foreach (var p in Parameters) visitor.Tensor(p.Name!, p.Value);
        optimizer.VisitState("club.adam", visitor);
        visitor.Rng("club.permutation_rng", PermutationRng);
    }

    public void Dispose()
    {
        if (kept is { } pairs) { pairs.X.Dispose(); pairs.Y.Dispose(); }
        kept = null;
    }
}
