using Engine.Autograd;
using Engine.Cpu;
using Engine.Training.Models;

namespace Engine.Training.Tests;

/// <summary>
/// SEA with the fused ops (the default) and with their composed references (<see cref="Backend.ComposedOnly"/>,
/// <c>sea train --composed</c>): the same loss and the same gradient of every parameter, float64, to 1e-9 relative
/// (gradients relative to the largest entry of any).
/// </summary>
public class FusedVersusComposedTests
{
    public static TheoryData<string> SeaCases => [.. ModelGradCheckCases.All.Where(c => c.Name.StartsWith("sea", StringComparison.Ordinal)).Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(SeaCases))]
    public void Sea_loss_and_gradients_agree(string name)
    {
        var check = ModelGradCheckCases.All.Single(c => c.Name == name);
        var (fusedLoss, fusedGrads) = LossAndGradients(check, composed: false);
        var (composedLoss, composedGrads) = LossAndGradients(check, composed: true);
        Assert.True(Close(fusedLoss, composedLoss), $"loss: fused {fusedLoss:G17}, composed {composedLoss:G17}");
        // Relative to the largest gradient entry: an entry (or a whole parameter's gradient) that cancels to about zero
        // differs by rounding alone.
        double scale = fusedGrads.SelectMany(g => g).Select(Math.Abs).Max();
        for (int p = 0; p < fusedGrads.Length; p++)
            for (int i = 0; i < fusedGrads[p].Length; i++)
                Assert.True(Math.Abs(fusedGrads[p][i] - composedGrads[p][i]) <= 1e-9 * scale,
                    $"parameter {p}, entry {i}: fused {fusedGrads[p][i]:G17}, composed {composedGrads[p][i]:G17} (largest entry {scale:G3})");
    }

    private static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));

    private static (double Loss, double[][] Grads) LossAndGradients(GradCheckCase check, bool composed)
    {
        var backend = new CpuBackend(GemmProvider.Managed) { ComposedOnly = composed };
        var problem = check.Build(backend, new Rng(999));
        using var tape = Tape.Begin();
        var loss = problem.Loss();
        tape.Backward(loss);
        return (loss.Value.Item(), problem.Inputs.Select(v => v.Grad?.ToArray<double>() ?? new double[v.Value.Length]).ToArray());
    }
}
