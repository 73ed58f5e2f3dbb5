using System.Globalization;
using System.Text;

namespace Engine.Training.Data;

/// <summary>
/// An input file is not what the engine can read: the message names the file, the line when there is one, and the
/// problem, e.g. <c>baby.inter line 17: x_label 3 is outside 0..2</c>, so that it can be shown to a user as it is.
/// The message is always one printable line: control characters in it are escaped (see <see cref="Printable(string, int)"/>).
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
        $"{Printable(file, int.MaxValue)}{(line is { } l ? $" line {l}" : "")}: {Printable(problem, int.MaxValue)}";

    /// <summary><paramref name="text"/> as <see cref="Printable(ReadOnlySpan{byte}, int)"/> shows its UTF-8.</summary>
    public static string Printable(string text, int maxChars) => Printable(Encoding.UTF8.GetBytes(text), maxChars);

    /// <summary>
    /// Content of a data file as a message may quote it: UTF-8 text stays as it is, but control and other invisible
    /// characters are escaped (\t, \n, \r, \x00 … \x7f, \u0085, \u202e …) and each byte that is not UTF-8 is shown as
    /// \xNN (80 to ff), so binary garbage cannot break the message's line or the terminal. Longer than
    /// <paramref name="maxChars"/>, it is cut and ends in "…".
    /// </summary>
    public static string Printable(ReadOnlySpan<byte> utf8, int maxChars)
    {
        var shown = new StringBuilder();
        while (!utf8.IsEmpty)
        {
            string piece;
            if (Rune.DecodeFromUtf8(utf8, out var rune, out int length) != System.Buffers.OperationStatus.Done)
            {
                piece = $"\\x{utf8[0]:x2}";
                length = 1;
            }
            else piece = Visible(rune) ? rune.ToString() : Escaped(rune);
            if (shown.Length + piece.Length > maxChars) return shown.Append('…').ToString();
            shown.Append(piece);
            utf8 = utf8[length..];
        }
        return shown.ToString();
    }

    private static bool Visible(Rune rune) => Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);

    private static string Escaped(Rune rune) => rune.Value switch
    {
        '\t' => "\\t",
        '\n' => "\\n",
        '\r' => "\\r",
        < 0x80 => $"\\x{rune.Value:x2}",
        <= 0xFFFF => $"\\u{rune.Value:x4}",
        _ => $"\\U{rune.Value:x8}",
    };
}
