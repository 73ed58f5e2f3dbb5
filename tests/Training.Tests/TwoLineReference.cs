using Engine.Autograd;
using Engine.Training.Models;
using Engine.Training.Sampling;
using MathNet.Numerics.LinearAlgebra;

namespace Engine.Training.Tests;

/// <summary>
/// AlignRec's and DRepMRec's forward and loss terms written out from MODELS.md §4 and §5 in dense double matrices,
/// independently of the engine's ops, to hold the models to.
/// </summary>
internal static class TwoLineReference
{
    /// <summary>One modality: Φ (trained copy), the original features, T, G and the item graph S, all dense.</summary>
    public sealed record Modality(Matrix<double> Phi, Matrix<double> Original, Matrix<double> T, Matrix<double> TBias,
        Matrix<double> G, Matrix<double> GBias, Matrix<double> S);

    public sealed record Result(Matrix<double> Z, Matrix<double> Behaviour, Matrix<double> Modal, Matrix<double>[] H);

    public static Matrix<double> Dense(CsrMatrix m) => Matrix<double>.Build.DenseOfRowMajor(m.Rows, m.Cols, m.ToDense());

    public static Matrix<double> Dense(Tensor t) => Matrix<double>.Build.DenseOfRowMajor(t.Rows, t.Cols, t.ToArray<double>());

    public static Matrix<double> Parameter(RecommenderModel model, string name) => Dense(model.Parameters.Single(p => p.Name == name).Value);

    public static Modality Branch(RecommenderModel model, string name, Data.FeatureMatrix original, CsrMatrix s) => new(
        Parameter(model, $"{name}_embedding"), Matrix<double>.Build.Dense(original.Rows, original.Cols, (i, j) => original[i, j]),
        Parameter(model, $"{name}_trs.weight"), Parameter(model, $"{name}_trs.bias"),
        Parameter(model, $"{name}_gate.weight"), Parameter(model, $"{name}_gate.bias"), Dense(s));

    /// <summary>
    /// Behaviour = mean of [E_u; E_i], Â·…, Â^L·…; per modality X = Φ Tᵀ + b, H = S·(gated ⊙ σ(X Gᵀ + g)) with gated
    /// E_i (purifier) or X; modal = [R H; H] averaged (or summed) over modalities; Z = behaviour + modal.
    /// </summary>
    public static Result Forward(RecommenderModel model, Matrix<double> adjacency, Matrix<double> r, Modality[] modalities,
        bool purifier, bool mean, int layers = 2)
    {
        var x0 = Parameter(model, "user_embedding").Stack(Parameter(model, "item_id_embedding"));
        var itemIds = Parameter(model, "item_id_embedding");
        var behaviour = x0.Clone();
        var layer = x0;
        for (int l = 0; l < layers; l++)
        {
            layer = adjacency * layer;
            behaviour += layer;
        }
        behaviour /= layers + 1;
        var hs = modalities.Select(m =>
        {
            var x = Affine(m.Phi, m.T, m.TBias);
            var gate = Affine(x, m.G, m.GBias).Map(v => 1 / (1 + Math.Exp(-v)));
            return m.S * (purifier ? itemIds : x).PointwiseMultiply(gate);
        }).ToArray();
        var modal = hs.Select(h => (r * h).Stack(h)).Aggregate((a, b) => a + b);
        if (mean) modal /= hs.Length;
        return new Result(behaviour + modal, behaviour, modal, hs);
    }

    public static double Bpr(Matrix<double> z, TrainingBatch b, int users) => -Enumerable.Range(0, b.Count).Average(k =>
    {
        double diff = z.Row(b.Users[k]) * z.Row(users + b.PositiveItems[k]) - z.Row(b.Users[k]) * z.Row(users + b.NegativeItems[k]);
        return -Math.Log(1 + Math.Exp(-diff));
    });

    /// <summary>½ Σ squared norms of the batch's user, positive and negative rows of Z, over the configured batch size.</summary>
    public static double HalfSquaredNorms(Matrix<double> z, TrainingBatch b, int users, int configuredBatch) =>
        0.5 * Enumerable.Range(0, b.Count).Sum(k =>
            Math.Pow(z.Row(b.Users[k]).L2Norm(), 2) + Math.Pow(z.Row(users + b.PositiveItems[k]).L2Norm(), 2) +
            Math.Pow(z.Row(users + b.NegativeItems[k]).L2Norm(), 2)) / configuredBatch;

    public static double OneMinusMeanCosine(Matrix<double> a, Matrix<double> b) =>
        1 - Enumerable.Range(0, a.RowCount).Average(k => a.Row(k) * b.Row(k) / (a.Row(k).L2Norm() * b.Row(k).L2Norm()));

    /// <summary>−mean_i log softmax_i of the cosine logits/τ of anchors i against every candidate.</summary>
    public static double InfoNce(Matrix<double> anchors, Matrix<double> candidates, double tau)
    {
        var logits = RowNormalized(anchors) * RowNormalized(candidates).Transpose() / tau;
        return Enumerable.Range(0, logits.RowCount).Average(i => Math.Log(logits.Row(i).Sum(Math.Exp)) - logits[i, i]);
    }

    /// <summary>‖H_p H_pᵀ − cos(F_p)‖_F / B for the rows <paramref name="items"/>.</summary>
    public static double Similarity(Matrix<double> h, Matrix<double> original, int[] items)
    {
        var hp = Rows(h, items);
        var fp = RowNormalized(Rows(original, items));
        return (hp * hp.Transpose() - fp * fp.Transpose()).FrobeniusNorm() / items.Length;
    }

    public static Matrix<double> Rows(Matrix<double> m, IEnumerable<int> rows) => Matrix<double>.Build.DenseOfRowVectors(rows.Select(m.Row));

    public static int[] Offset(int[] items, int by) => Array.ConvertAll(items, i => i + by);

    /// <summary>The model's loss terms by name, and the loss, on <paramref name="batch"/>.</summary>
    public static (Dictionary<string, double> Terms, double Loss) Terms(RecommenderModel model, TrainingBatch batch)
    {
        using var tape = Tape.Begin();
        var loss = model.Loss(batch).Value.Item();
        return (model.LossTerms.ToDictionary(t => t.Name, t => t.Value.Value.Item()), loss);
    }

    private static Matrix<double> Affine(Matrix<double> x, Matrix<double> weight, Matrix<double> bias)
    {
        var y = x * weight.Transpose();
        for (int i = 0; i < y.RowCount; i++) y.SetRow(i, y.Row(i) + bias.Row(0));
        return y;
    }

    private static Matrix<double> RowNormalized(Matrix<double> m) => m.NormalizeRows(2);
}

/// <summary>Two runs with one seed train identically (losses and metrics); a third with another seed does not.</summary>
internal static class SameSeed
{
    public static void Check(string model)
    {
        TrainingResult Train(ulong seed)
        {
            var config = new RunConfig { Model = model, Epochs = 2, Batch = 256, Seed = seed, LearningRate = 5e-3, AlignRec = new() { KnnK = 5 }, DRepMRec = new() { KnnK = 5 } };
            using var run = Recommender.Create(config, data: CheckpointTests.SmallWithFeatures);
            return run.Train(cancel: TestContext.Current.CancellationToken);
        }
        var first = Train(5);
        var again = Train(5);
        var other = Train(6);
        Assert.Equal(first.Test, again.Test);
        Assert.Equal(first.History.Select(h => h.MeanLoss), again.History.Select(h => h.MeanLoss));
        Assert.NotEqual(first.History[0].MeanLoss, other.History[0].MeanLoss);
    }
}
