namespace Engine;

/// <summary>Elementwise ops of one input. Some take a parameter α (see each).</summary>
public enum UnaryOp
{
    Neg,
    /// <summary>y = α·x.</summary>
    Scale,
    /// <summary>y = x + α.</summary>
    AddScalar,
    Exp,
    Log,
    Sigmoid,
    /// <summary>y = log σ(x), computed without overflow for large |x|.</summary>
    LogSigmoid,
    Tanh,
    Relu,
    /// <summary>y = x for x &gt; 0, α·x otherwise (α is the negative slope).</summary>
    LeakyRelu,
    Square,
    Sqrt,
}

/// <summary>Elementwise ops of two inputs; the second may broadcast (see <see cref="Backend.Binary"/>).</summary>
public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
}

public enum ReduceOp
{
    Sum,
    Mean,
    Max,
}
