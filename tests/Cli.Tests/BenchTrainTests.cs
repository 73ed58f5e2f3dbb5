using System.Text.Json;
using Engine.Cli.Bench;
using Engine.Training.Data;

namespace Engine.Cli.Tests;

/// <summary><c>sea bench train</c> on a tiny dataset: the report's fields are there and its counts are positive (speed is not asserted).</summary>
public class BenchTrainTests
{
    /// <summary>A tiny dataset with the features <paramref name="model"/> reads.</summary>
    private static Dataset Tiny(string model)
    {
        var d = SyntheticInteractions.Generate(users: 300, items: 150, groups: 5, seed: 3);
        var needs = new Engine.Training.RunConfig { Model = model };
        if (!needs.NeedsFeatures && !needs.NeedsMultimodalFeatures) return d;
        var f = FeatureSynthesizer.Synthesize(d.Users, d.Items, d.Train, new SynthesisOptions(ImageDim: 32, TextDim: 16, Seed: 3, MultimodalDim: 24));
        return new Dataset(d.Name, d.Folder, d.Users, d.Items, d.Train, d.Valid, d.Test, f.Image, f.Text, multimodal: f.Multimodal);
    }

    private static JsonElement Bench(string model, int? maxBatches)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"sea-bench-train-{Guid.NewGuid():N}");
        try
        {
            var options = new TrainBenchOptions(model, Epochs: 1, MaxBatches: maxBatches, Quick: true);
            Assert.Equal(CliErrors.Ok, BenchCommand.RunTrain(options, null, "cpu", null, folder, Tiny(model)));
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "bench.json")));
            return json.RootElement.Clone();
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Sea_cut_to_one_batch_reports_extrapolated_epochs_counts_and_floors()
    {
        var root = Bench("sea", maxBatches: 1);
        Assert.Equal("sea", root.GetProperty("model").GetString());
        var run = root.GetProperty("runs").EnumerateArray().Single();
        Assert.Equal("cpu", run.GetProperty("device").GetString());
        int perEpoch = run.GetProperty("batches_per_epoch").GetInt32();
        Assert.True(perEpoch > 1, "the tiny dataset should have several batches, so that cutting is exercised");
        Assert.Equal(1, run.GetProperty("batches_timed").GetInt32());
        Assert.Equal($"extrapolated from 1 of {perEpoch} batches", run.GetProperty("extrapolation").GetString());
        AssertFigures(run);
        // SEA's dense work: its feature maps and CLUB network are GEMMs.
        Assert.True(run.GetProperty("gemm_flops_per_epoch").GetDouble() > 0);
        Assert.True(run.GetProperty("achieved_gemm_gflops").GetDouble() > 0);
        Assert.True(run.GetProperty("dense_floor_seconds").GetDouble() > 0);
        Assert.Contains(run.GetProperty("ops").EnumerateArray(), o => o.GetProperty("op").GetString() == "Gemm");
    }

    [Fact]
    public void Lightgcn_whole_epochs_report_medians_counts_and_floors()
    {
        var root = Bench("lightgcn", maxBatches: null);
        var run = root.GetProperty("runs").EnumerateArray().Single();
        Assert.Equal(JsonValueKind.Null, run.GetProperty("extrapolation").ValueKind);
        Assert.Equal(run.GetProperty("batches_per_epoch").GetInt32(), run.GetProperty("batches_timed").GetInt32());
        AssertFigures(run);
        Assert.Contains(root.GetProperty("targets").EnumerateArray(), t => t.GetProperty("what").GetString()!.StartsWith("lightgcn "));
    }

    [Theory]
    [InlineData("vbpr")]
    [InlineData("vbpr-sea")]
    [InlineData("freedom")]
    [InlineData("freedom-sea")]
    [InlineData("alignrec")]
    [InlineData("drepmrec")]
    public void Every_other_model_is_timed_through_the_trainer(string model)
    {
        var root = Bench(model, maxBatches: 1);
        Assert.Equal(model, root.GetProperty("model").GetString());
        var run = root.GetProperty("runs").EnumerateArray().Single();
        Assert.Equal(1, run.GetProperty("batches_timed").GetInt32());
        Assert.True(run.GetProperty("median_train_seconds").GetDouble() > 0);
        Assert.True(run.GetProperty("median_eval_seconds").GetDouble() > 0);
        Assert.Contains(run.GetProperty("ops").EnumerateArray(), o => o.GetProperty("op").GetString() == "AdamStep");
        // No GPU target is set for these yet: only the evaluation's.
        Assert.Equal(["evaluation s"], root.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("what").GetString()));
    }

    private static void AssertFigures(JsonElement run)
    {
        Assert.Equal(1, run.GetProperty("timed_epochs").GetInt32());
        // Both models propagate over the interaction graph (SpMM); LightGCN's training has no dense product.
        foreach (var field in new[] { "median_train_seconds", "median_eval_seconds", "spmm_bytes_per_epoch", "other_bytes_per_epoch",
                     "achieved_spmm_g_bps", "sparse_floor_seconds", "floor_seconds", "peak_memory_bytes" })
            Assert.True(run.GetProperty(field).GetDouble() > 0, field);
        var floors = run.GetProperty("floors");
        Assert.True(floors.GetProperty("gemm_gflops").GetDouble() > 0);
        Assert.True(floors.GetProperty("copy_g_bps").GetDouble() > 0);
        var ops = run.GetProperty("ops").EnumerateArray().ToList();
        var names = ops.Select(o => o.GetProperty("op").GetString()).ToList();
        Assert.Contains("Spmm", names);
        double shares = ops.Sum(o => o.GetProperty("share_of_train").GetDouble());
        Assert.InRange(shares, 0, 1.05); // op timers cannot add up to more than the epoch (a little slack for timer granularity)
    }

    [Fact]
    public void Compare_without_a_gpu_fails_with_one_clear_message()
    {
        if (Engine.Kernels.Native.CudaProbe.Probe().Usable) Assert.Skip("a GPU is present: --compare would run");
        var error = new StringWriter();
        var saved = Console.Error;
        Console.SetError(error);
        int exit;
        try
        {
            exit = CliErrors.Run(() => BenchCommand.RunTrain(new TrainBenchOptions("lightgcn", Epochs: 1, Quick: true), null, "cpu", "cpu,cuda", null, Tiny("lightgcn")));
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.NotEqual(CliErrors.Ok, exit);
        var message = error.ToString().Trim();
        Assert.StartsWith("sea: error: --compare cpu,cuda needs a usable CUDA GPU", message);
        Assert.DoesNotContain("\n", message); // one line, no stack trace
    }
}
