namespace Engine.Training.Checkpoints;

/// <summary>
/// Walks the training state of a component (a model, an optimiser, the trainer) for a checkpoint. The same walk
/// serves both directions: a writer records what it is shown, a reader overwrites it with the saved value. So what is
/// saved and what is restored are one list, written once, and cannot drift apart.
/// </summary>
public interface IStateVisitor
{
    /// <summary>Saving: records the tensor's contents. Restoring: copies the saved contents into it (shape and dtype checked).</summary>
    void Tensor(string name, Tensor tensor);

    /// <summary>Saving: records <paramref name="value"/> (as JSON) and returns it. Restoring: returns the saved value.</summary>
    T Value<T>(string name, T value);
}

public static class StateVisitorExtensions
{
    /// <summary>A generator's full state: its four words and its cached normal deviate.</summary>
    public static void Rng(this IStateVisitor visitor, string name, Rng rng)
    {
        var (s0, s1, s2, s3, spare) = rng.State;
        var saved = visitor.Value(name, new RngState([s0, s1, s2, s3], spare));
        if (saved.Words is not { Length: 4 } w) throw new CheckpointException($"the state of generator '{name}' does not have four words");
        rng.State = (w[0], w[1], w[2], w[3], saved.SpareNormal);
    }

    private sealed record RngState(ulong[] Words, double? SpareNormal);
}
