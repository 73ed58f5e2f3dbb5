namespace Engine;

/// <summary>
/// An op was given something it cannot work on (wrong shape, dtype or device, an index out of range).
/// The message starts with the op's name and says what was given.
/// </summary>
public sealed class EngineException(string op, string problem) : ArgumentException($"{op}: {problem}")
{
    public string Op { get; } = op;
}
