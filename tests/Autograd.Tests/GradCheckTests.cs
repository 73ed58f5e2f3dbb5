using Engine.Cpu;

namespace Engine.Autograd.Tests;

public class GradCheckTests
{
    public static TheoryData<string> CaseNames => [.. OpGradCheckCases.All.Select(c => c.Name)];

    /// <summary>Every registered op and loss passes a float64 central-difference check.</summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Op_gradient_matches_central_differences(string name)
    {
        var check = OpGradCheckCases.All.Single(c => c.Name == name);
        var result = check.Run(CpuBackend.Shared);
        Assert.True(result.Passed, string.Join("\n", result.Mismatches));
        Assert.True(result.Checked > 0);
    }

    /// <summary>
    /// The fused losses pass the same checks through their composed references (<see cref="Backend.ComposedOnly"/>) as
    /// through the CPU kernels, and each path is the one that ran: only the references call the elementwise primitives.
    /// </summary>
    [Theory]
    [InlineData("bpr", false)]
    [InlineData("bpr_log2", false)]
    [InlineData("club_upper_bound", false)]
    [InlineData("bpr", true)]
    [InlineData("bpr_log2", true)]
    [InlineData("club_upper_bound", true)]
    public void Fused_loss_gradient_matches_central_differences_through_kernel_and_reference(string name, bool composed)
    {
        var backend = new CpuBackend { ComposedOnly = composed };
        backend.Counters.Enabled = true;
        var result = OpGradCheckCases.All.Single(c => c.Name == name).Run(backend);
        Assert.True(result.Passed, string.Join("\n", result.Mismatches));
        Assert.Equal(composed, backend.Counters.Snapshot().ContainsKey(OpKind.Binary));
    }

    [Fact]
    public void Registry_covers_at_least_25_cases_with_unique_names()
    {
        Assert.True(OpGradCheckCases.All.Count >= 25);
        Assert.Equal(OpGradCheckCases.All.Count, OpGradCheckCases.All.Select(c => c.Name).Distinct().Count());
    }

    /// <summary>The checker must catch a wrong gradient, or every passing case above means nothing.</summary>
    [Fact]
    public void Checker_reports_a_wrong_gradient_with_the_entry()
    {
        var b = CpuBackend.Shared;
        var x = Var.Parameter(b.FromArray(new[] { 0.5, -1.0, 2.0 }, 1, 3), "x");
        var result = GradCheck.Check("wrong", () => WronglyDifferentiatedSquareSum(x), [x]);
        Assert.False(result.Passed);
        Assert.Contains("x[0, 0]", result.Mismatches[0]);
    }

    /// <summary>y = Σ x², whose recorded backward (through a detached copy) is missing, so the gradient is 0.</summary>
    private static Var WronglyDifferentiatedSquareSum(Var x)
    {
        var cut = x.Detach().Square().Sum();
        return cut + x.Sum().Scale(0); // depends on x (so Backward runs) but with gradient 0 ≠ 2x
    }

    [Fact]
    public void Checker_refuses_float32_inputs()
    {
        var x = Var.Parameter(CpuBackend.Shared.FromArray(new[] { 1f, 2f }, 1, 2), "x");
        var e = Assert.Throws<EngineException>(() => GradCheck.Check("f32", () => x.Sum(), [x]));
        Assert.Contains("float64", e.Message);
    }
}
