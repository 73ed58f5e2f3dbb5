namespace Engine.Training.Data;

/// <summary>
/// An input file is not what the engine can read: the message names the file, the line when there is one, and the
/// problem, e.g. <c>baby.inter line 17: x_label 3 is outside 0..2</c>, so that it can be shown to a user as it is.
/// </summary>
public sealed class DataFormatException(string file, int? line, string problem, Exception? inner = null)
    : Exception(Format(file, line, problem), inner)
{
    /// <summary>The file as the caller named it (not made absolute, so the message matches what the user typed).</summary>
    public string File { get; } = file;

    /// <summary>1-based line number (the header is line 1); null for binary files and whole-file problems.</summary>
    public int? Line { get; } = line;

    public string Problem { get; } = problem;

    private static string Format(string file, int? line, string problem) =>
        line is { } l ? $"{file} line {l}: {problem}" : $"{file}: {problem}";
}
