using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Graph;
using Engine.Training.Models;

namespace Engine.Training.Tests;

public class SeaTests
{
    private static readonly Backend B = CpuBackend.Shared;

    private static Sea Build(SeaOptions options, ulong seed = 3)
    {
        var rng = new Rng(seed);
        var (adjacency, image, text, _) = ModelGradCheckCases.TinyProblem(B, rng);
        var o = ModelGradCheckCases.Tiny(options);
        var graph = ItemKnnGraph.Build(B, [(image, o.ImageWeight), (text, 1 - o.ImageWeight)], o.KnnK, DType.Float64, null, out _);
        return new Sea(B, 5, 6, adjacency, graph, image, text, o, rng, DType.Float64);
    }

    private static (double Loss, double[][] Grads) LossAndGradients(Sea model)
    {
        var (_, _, _, batch) = ModelGradCheckCases.TinyProblem(B, new Rng(3));
        foreach (var p in model.Parameters) p.ZeroGrad();
        using var tape = Tape.Begin();
        var loss = model.Loss(batch);
        tape.Backward(loss);
        return (loss.Value.Item(), model.Parameters.Select(p => p.Grad?.ToArray<double>() ?? new double[p.Value.Length]).ToArray());
    }

    public static TheoryData<string> ModelCases => [.. ModelGradCheckCases.All.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(ModelCases))]
    public void Model_loss_gradient_matches_central_differences(string name)
    {
        var result = ModelGradCheckCases.All.Single(c => c.Name == name).Run(B);
        Assert.True(result.Passed, string.Join("\n", result.Mismatches));
    }

    /// <summary>The reassociated first layers compute the same loss and the same gradient for every parameter.</summary>
    [Theory]
    [InlineData(Distance.Club)]
    [InlineData(Distance.L2)]
    public void Reassociated_path_equals_the_plain_path(Distance distance)
    {
        var fast = LossAndGradients(Build(new SeaOptions { Reassociate = true, Distance = distance }));
        var plain = LossAndGradients(Build(new SeaOptions { Reassociate = false, Distance = distance }));
        Assert.Equal(plain.Loss, fast.Loss, 1e-12);
        Assert.Equal(plain.Grads.Length, fast.Grads.Length);
        for (int p = 0; p < plain.Grads.Length; p++)
            for (int e = 0; e < plain.Grads[p].Length; e++)
                Assert.True(Math.Abs(plain.Grads[p][e] - fast.Grads[p][e]) <= 1e-12 + 1e-9 * Math.Abs(plain.Grads[p][e]),
                    $"parameter {p}, entry {e}: plain {plain.Grads[p][e]}, reassociated {fast.Grads[p][e]}");
        Assert.Contains(plain.Grads, g => g.Any(v => v != 0));
    }

    [Fact]
    public void The_inner_club_loop_changes_only_the_club_network()
    {
        var model = Build(new SeaOptions { ClubSteps = 5 });
        LossAndGradients(model);
        var before = model.Parameters.Select(p => p.Value.ToArray<double>()).ToArray();
        var clubBefore = model.ClubParameters.Select(p => p.Value.ToArray<double>()).ToArray();
        model.AfterBackward(null!);
        Assert.Equal(before, model.Parameters.Select(p => p.Value.ToArray<double>()).ToArray());
        var clubAfter = model.ClubParameters.Select(p => p.Value.ToArray<double>()).ToArray();
        Assert.Contains(Enumerable.Range(0, clubBefore.Length), i => !clubBefore[i].SequenceEqual(clubAfter[i]));
    }

    [Fact]
    public void The_backbone_has_no_club_work()
    {
        var model = Build(new SeaOptions { Alpha = 0, Beta = 0 });
        LossAndGradients(model);
        var clubBefore = model.ClubParameters.Select(p => p.Value.ToArray<double>()).ToArray();
        model.AfterBackward(null!);
        Assert.Equal(clubBefore, model.ClubParameters.Select(p => p.Value.ToArray<double>()).ToArray());
    }
}
