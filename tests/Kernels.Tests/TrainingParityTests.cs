using Engine.Cpu;
using Engine.Training;
using Engine.Training.Data;
using Engine.Training.Models;

namespace Engine.Kernels.Tests;

/// <summary>
/// A few epochs of SEA, LightGCN, VBPR and VBPR+SEA in float32 with the same seed on CUDA and on the CPU reference: the whole
/// training step (forward, autograd, Adam, CLUB's inner fit) and the evaluation (top-K with the training items masked)
/// on the device must follow the CPU's run.
/// </summary>
[Trait("Category", Category.Cuda)]
public class TrainingParityTests
{
    /// <summary>200 users × 100 items with small semi-synthetic image and text features: seconds on the CPU.</summary>
    private static readonly Lazy<Dataset> Tiny = new(() =>
    {
        var d = SyntheticInteractions.Generate(users: 200, items: 100, groups: 5, seed: 21);
        var f = FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train,
            new SynthesisOptions(ImageDim: 32, TextDim: 16, GenericRank: 4, UniqueRank: 2, Noise: 0.1, Seed: 21));
        return new Dataset(d.Name, d.Folder, d.Users, d.Items, d.Train, d.Valid, d.Test, f.Image, f.Text);
    });

    private static TrainingResult Train(Backend backend, string model)
    {
        // Narrow SEA (its CLUB widths stay 32 and 8: those the CUDA club_fit kernels take) with a short inner CLUB loop;
        // VBPR+SEA's CLUB is d/2 wide, so it keeps d = 64.
        var config = new RunConfig
        {
            Model = model, Layers = 2, Dimension = model == "vbpr-sea" ? 64 : 16, LearningRate = 5e-3, Epochs = 3, Batch = 128, Seed = 5,
            Sea = new SeaOptions { MlpHidden = 32, ProjectionHidden = 16, ClubSteps = 5 },
            VbprSea = new VbprSeaOptions { ProjectionHidden = 16, ClubSteps = 5 },
        };
        using var m = config.BuildModel(Tiny.Value, backend);
        return new Trainer(Tiny.Value, m, config.TrainerOptions).Train(cancel: TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData("sea")]
    [InlineData("lightgcn")]
    [InlineData("vbpr")]
    [InlineData("vbpr-sea")]
    public void Cuda_training_follows_the_cpu(string model)
    {
        Gpu.Require();
        using var cpu = new CpuBackend(GemmProvider.Managed);
        using var gpu = new CudaBackend(CudaDevice.Open());
        var (expected, actual) = (Train(cpu, model), Train(gpu, model));

        // Both runs start from the same parameters and draw the same batches, but every step rounds differently (sums
        // in another order, fused multiply-adds, another exp), and training carries the differences on. Measured on
        // these runs, even the CPU's float32 and float64 losses differ by only 2e-8 relative after three epochs; 1e-5
        // leaves a wide margin for a device's roundings and is still far below what one wrong gradient would change.
        Assert.Equal(expected.History.Count, actual.History.Count);
        for (int e = 0; e < expected.History.Count; e++)
        {
            double onCpu = expected.History[e].MeanLoss, onCuda = actual.History[e].MeanLoss;
            Assert.True(Math.Abs(onCpu - onCuda) <= 1e-5 * Math.Abs(onCpu), $"{model} epoch {e + 1} mean loss: cpu {onCpu:R}, cuda {onCuda:R}");
        }
        // A metric moves only when two items' scores swap across some user's top 20, which at such close scores takes a
        // near-tie (float32 and float64 give identical metrics here). One swap moves Recall@20 or NDCG@20 by at most
        // 1/users = 0.005: one is allowed, not two.
        foreach (var metric in new[] { "recall@20", "ndcg@20" })
            Assert.True(Math.Abs(expected.Test[metric] - actual.Test[metric]) <= 1.5 / Tiny.Value.Users,
                $"{model} test {metric}: cpu {expected.Test[metric]:R}, cuda {actual.Test[metric]:R}");
    }
}
