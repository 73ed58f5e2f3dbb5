namespace Engine.Autograd;

/// <summary>
/// A tensor in a differentiable computation: its value, whether gradients flow to it, and its gradient once a
/// backward pass has reached it. Parameters keep (and accumulate) their gradient across backward passes until
/// <see cref="ZeroGrad"/>; intermediate values belong to the <see cref="Tape"/> that recorded them.
/// </summary>
public sealed class Var
{
    public Var(Tensor value, bool requiresGrad = false, string? name = null)
    {
        Value = value;
        RequiresGrad = requiresGrad;
        Name = name;
    }

    /// <summary>A trainable tensor: gradients flow to it and accumulate in <see cref="Grad"/>.</summary>
    public static Var Parameter(Tensor value, string? name = null) => new(value, requiresGrad: true, name);

    /// <summary>A constant input: no gradient is computed for it.</summary>
    public static Var Constant(Tensor value, string? name = null) => new(value, requiresGrad: false, name);

    public Tensor Value { get; }

    /// <summary>∂loss/∂this after a backward pass reached it; null before.</summary>
    public Tensor? Grad { get; private set; }

    public bool RequiresGrad { get; }
    public string? Name { get; set; }

    public Backend Backend => Value.Backend;
    public int Rows => Value.Rows;
    public int Cols => Value.Cols;
    public DType DType => Value.DType;
    public string Shape => Value.Shape;

    /// <summary>The same value, cut off from the graph: nothing flows back through it.</summary>
    public Var Detach() => new(Value, requiresGrad: false, Name);

    /// <summary>The gradient tensor to accumulate into, created zero-filled on first use.</summary>
    internal Tensor GradForAccumulation() => Grad ??= Backend.Allocate(Rows, Cols, DType);

    /// <summary>Zeroes the accumulated gradient (kept allocated, so a training step allocates nothing).</summary>
    public void ZeroGrad()
    {
        if (Grad is not null) Backend.Fill(Grad, 0);
    }

    /// <summary>Frees the gradient tensor.</summary>
    internal void ReleaseGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    // Operators, so formulas read like the paper. The second operand of a binary op may broadcast (see Ops.Add).
    public static Var operator +(Var a, Var b) => a.Add(b);
    public static Var operator -(Var a, Var b) => a.Sub(b);
    public static Var operator *(Var a, Var b) => a.Mul(b);
    public static Var operator /(Var a, Var b) => a.Div(b);
    public static Var operator -(Var a) => a.Neg();
    public static Var operator *(Var a, double s) => a.Scale(s);
    public static Var operator *(double s, Var a) => a.Scale(s);
    public static Var operator +(Var a, double s) => a.AddScalar(s);
    public static Var operator -(Var a, double s) => a.AddScalar(-s);

    public override string ToString() => $"Var({Name ?? "?"}, {Shape}, {DType.Name()}{(RequiresGrad ? ", grad" : "")})";
}
