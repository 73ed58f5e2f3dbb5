using Engine.Cpu;

namespace Engine.Autograd.Tests;

public class TapeTests
{
    private static readonly Backend B = CpuBackend.Shared;

    private static Var Param(params double[] values) => Var.Parameter(B.FromArray(values, 1, values.Length));

    [Fact]
    public void Backward_gives_the_hand_computed_gradient()
    {
        // L = Σ (x·y + x²) with x = [1, 2], y = [3, -1]: ∂L/∂x = y + 2x = [5, 3], ∂L/∂y = x = [1, 2].
        var x = Param(1, 2);
        var y = Param(3, -1);
        using var tape = Tape.Begin();
        var loss = (x * y + x.Square()).Sum();
        Assert.Equal(1 * 3 + 2 * -1 + 1 + 4, loss.Value.Item());
        tape.Backward(loss);
        Assert.Equal([5.0, 3.0], x.Grad!.ToArray<double>());
        Assert.Equal([1.0, 2.0], y.Grad!.ToArray<double>());
    }

    [Fact]
    public void A_value_used_twice_receives_both_gradients()
    {
        var x = Param(2);
        using var tape = Tape.Begin();
        var loss = (x * x + x.Exp()).Sum(); // d/dx = 2x + e^x
        tape.Backward(loss);
        Assert.Equal(4 + Math.Exp(2), x.Grad!.Item(), 12);
    }

    [Fact]
    public void Parameter_gradients_accumulate_across_backward_passes_until_zeroed()
    {
        var x = Param(3);
        for (int pass = 0; pass < 2; pass++)
        {
            using var tape = Tape.Begin();
            tape.Backward((x * 2.0).Sum());
        }
        Assert.Equal(4.0, x.Grad!.Item());
        x.ZeroGrad();
        Assert.Equal(0.0, x.Grad!.Item());
    }

    [Fact]
    public void Detach_stops_the_gradient()
    {
        var x = Param(3);
        using var tape = Tape.Begin();
        var loss = (x * x.Detach()).Sum(); // only the first factor carries a gradient: d/dx = 3
        tape.Backward(loss);
        Assert.Equal(3.0, x.Grad!.Item());
    }

    [Fact]
    public void NoGrad_records_nothing_and_backward_then_refuses()
    {
        var x = Param(3);
        using var tape = Tape.Begin();
        Var loss;
        using (Tape.NoGrad())
        {
            loss = x.Square().Sum();
            Assert.False(loss.RequiresGrad);
        }
        Assert.Equal(0, tape.Count);
        var e = Assert.Throws<EngineException>(() => tape.Backward(loss));
        Assert.Contains("NoGrad", e.Message);
    }

    [Fact]
    public void Constants_get_no_gradient()
    {
        var x = Param(1, 2);
        var c = Var.Constant(B.FromArray(new[] { 5.0, 6.0 }, 1, 2));
        using var tape = Tape.Begin();
        tape.Backward((x * c).Sum());
        Assert.Null(c.Grad);
        Assert.Equal([5.0, 6.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Backward_runs_once_per_tape_and_needs_a_scalar()
    {
        var x = Param(1, 2);
        using var tape = Tape.Begin();
        var y = x * 3.0;
        Assert.Throws<EngineException>(() => tape.Backward(y));
        var loss = y.Sum();
        tape.Backward(loss);
        Assert.Throws<InvalidOperationException>(() => tape.Backward(loss));
    }

    [Fact]
    public void Disposing_the_tape_frees_intermediates_but_not_parameters()
    {
        var x = Param(1, 2);
        Var hidden;
        using (var tape = Tape.Begin())
        {
            hidden = x.Exp();
            tape.Backward(hidden.Sum());
        }
        Assert.True(hidden.Value.IsDisposed);
        Assert.False(x.Value.IsDisposed);
        Assert.False(x.Grad!.IsDisposed);
    }

    [Fact]
    public void Ops_outside_a_tape_compute_values_without_recording()
    {
        var x = Param(4);
        var y = x.Sqrt();
        Assert.False(y.RequiresGrad);
        Assert.Equal(2.0, y.Value.Item());
    }

    [Fact]
    public void Shape_errors_name_the_op_and_the_shapes()
    {
        var a = Var.Parameter(B.Allocate(2, 3, DType.Float64));
        var b = Var.Parameter(B.Allocate(2, 3, DType.Float64));
        var e = Assert.Throws<EngineException>(() => a.MatMul(b));
        Assert.Contains("Gemm", e.Message);
        Assert.Contains("2×3", e.Message);
    }
}
