namespace Engine.Autograd;

/// <summary>
/// The differentiable ops. Each op runs its forward through the backend and, beside it, records its backward: the
/// two halves of one op are always in one place.
/// </summary>
public static partial class Ops
{
    private static Tensor NewLike(Var like, int rows, int cols) => like.Backend.Allocate(rows, cols, like.DType);

    // ---------------------------------------------------------------- one input

    public static Var Neg(this Var x) => Unary(UnaryOp.Neg, x);
    public static Var Scale(this Var x, double factor) => Unary(UnaryOp.Scale, x, factor);
    public static Var AddScalar(this Var x, double value) => Unary(UnaryOp.AddScalar, x, value);
    public static Var Exp(this Var x) => Unary(UnaryOp.Exp, x);
    public static Var Log(this Var x) => Unary(UnaryOp.Log, x);
    public static Var Sigmoid(this Var x) => Unary(UnaryOp.Sigmoid, x);
    public static Var LogSigmoid(this Var x) => Unary(UnaryOp.LogSigmoid, x);
    public static Var Tanh(this Var x) => Unary(UnaryOp.Tanh, x);
    public static Var Relu(this Var x) => Unary(UnaryOp.Relu, x);
    public static Var LeakyRelu(this Var x, double negativeSlope = 0.01) => Unary(UnaryOp.LeakyRelu, x, negativeSlope);
    public static Var Square(this Var x) => Unary(UnaryOp.Square, x);
    public static Var Sqrt(this Var x) => Unary(UnaryOp.Sqrt, x);

    private static Var Unary(UnaryOp op, Var x, double alpha = 0)
    {
        var y = Tape.Output(NewLike(x, x.Rows, x.Cols), x);
        x.Backend.Unary(op, x.Value, y.Value, alpha);
        Tape.Record(y, () => x.Backend.UnaryBackward(op, x.Value, y.Value, y.Grad!, x.GradForAccumulation(), alpha));
        return y;
    }

    // ---------------------------------------------------------------- two inputs, the second may broadcast

    /// <summary>a + b; b is shaped like a, or 1×n, m×1 or 1×1 and broadcast.</summary>
    public static Var Add(this Var a, Var b) => Binary(BinaryOp.Add, a, b);
    public static Var Sub(this Var a, Var b) => Binary(BinaryOp.Sub, a, b);
    public static Var Mul(this Var a, Var b) => Binary(BinaryOp.Mul, a, b);
    public static Var Div(this Var a, Var b) => Binary(BinaryOp.Div, a, b);

    private static Var Binary(BinaryOp op, Var a, Var b)
    {
        var y = Tape.Output(NewLike(a, a.Rows, a.Cols), a, b);
        a.Backend.Binary(op, a.Value, b.Value, y.Value);
        Tape.Record(y, () => a.Backend.BinaryBackward(op, a.Value, b.Value, y.Grad!,
            a.RequiresGrad ? a.GradForAccumulation() : null,
            b.RequiresGrad ? b.GradForAccumulation() : null));
        return y;
    }
}
