namespace Engine.Autograd;

/// <summary>
/// Records differentiable ops in the order they run, so that <see cref="Backward"/> can replay their backwards in
/// reverse. Ops record onto the thread's current tape (the innermost one begun and not yet disposed) whenever one of
/// their inputs requires a gradient and recording is not switched off by <see cref="NoGrad"/>.
/// The tape also owns every value created while it is current (except parameters): disposing it frees them, so a
/// training step leaves no device memory behind.
/// </summary>
public sealed class Tape : IDisposable
{
    [ThreadStatic] private static Tape? current;
    [ThreadStatic] private static int noGradDepth;

    private readonly Tape? previous;
    private readonly List<(Var Output, Action Backward)> records = [];
    private readonly List<Var> owned = [];
    private bool backwardDone;
    private bool disposed;

    private Tape()
    {
        previous = current;
        current = this;
    }

    /// <summary>Starts recording on this thread; dispose the tape to stop and free what it recorded.</summary>
    public static Tape Begin() => new();

    /// <summary>True when an op run now would be recorded (if an input requires a gradient).</summary>
    public static bool IsRecording => current is not null && noGradDepth == 0;

    /// <summary>Switches recording off until the returned scope is disposed (for evaluation and finite differences).</summary>
    public static IDisposable NoGrad()
    {
        noGradDepth++;
        return new Scope(() => noGradDepth--);
    }

    /// <summary>How many ops were recorded.</summary>
    public int Count => records.Count;

    /// <summary>
    /// Creates an op's output around <paramref name="value"/>: it requires a gradient when recording and any input
    /// does, and it belongs to the current tape, if any.
    /// </summary>
    internal static Var Output(Tensor value, params Var[] inputs)
    {
        bool requiresGrad = IsRecording && inputs.Any(v => v.RequiresGrad);
        var output = new Var(value, requiresGrad);
        current?.owned.Add(output);
        return output;
    }

    /// <summary>
    /// Hands <paramref name="tensor"/> (an index or constant made for this step) to the current tape, which frees it
    /// on disposal. Without a current tape the caller keeps it.
    /// </summary>
    public static Tensor Scoped(Tensor tensor)
    {
        if (current is not null) Output(tensor);
        return tensor;
    }

    /// <summary>Remembers how to send <paramref name="output"/>'s gradient to its inputs (only if it requires one).</summary>
    internal static void Record(Var output, Action backward)
    {
        if (output.RequiresGrad) current!.records.Add((output, backward));
    }

    /// <summary>
    /// Computes ∂loss/∂v for every v that requires a gradient and contributed to <paramref name="loss"/> (1×1),
    /// adding it to v.Grad. Runs once per tape.
    /// </summary>
    public void Backward(Var loss)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (loss.Rows != 1 || loss.Cols != 1)
            throw new EngineException(nameof(Backward), $"the loss must be 1×1, got {loss.Shape}");
        if (!loss.RequiresGrad)
            throw new EngineException(nameof(Backward), "the loss does not depend on anything that requires a gradient (was it computed under NoGrad, or from constants only?)");
        if (backwardDone)
            throw new InvalidOperationException("Backward was already run on this tape: begin a new tape for a new forward pass.");
        backwardDone = true;
        loss.Backend.Fill(loss.GradForAccumulation(), 1);
        for (int i = records.Count - 1; i >= 0; i--)
        {
            var (output, backward) = records[i];
            if (output.Grad is not null) backward();
        }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (!ReferenceEquals(current, this))
            throw new InvalidOperationException("Tapes must be disposed in the reverse order they were begun.");
        current = previous;
        foreach (var v in owned)
        {
            v.ReleaseGrad();
            v.Value.Dispose();
        }
        owned.Clear();
        records.Clear();
    }

    private sealed class Scope(Action onDispose) : IDisposable
    {
        private Action? onDispose = onDispose;

        public void Dispose()
        {
            onDispose?.Invoke();
            onDispose = null;
        }
    }
}
