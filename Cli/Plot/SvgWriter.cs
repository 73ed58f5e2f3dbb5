using System.Globalization;
using System.Text;

namespace Engine.Cli.Plot;

/// <summary>Writes a figure as a standalone SVG document with real text, so it stays sharp and searchable.</summary>
internal static class SvgWriter
{
    public static string Write(Figure figure)
    {
        var canvas = new SvgCanvas(figure.Width, figure.Height);
        ChartPainter.Paint(figure, canvas);
        return canvas.Finish();
    }
}

internal sealed class SvgCanvas : ICanvas
{
    private readonly StringBuilder svg = new();

    public SvgCanvas(double width, double height)
    {
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{N(width)}\" height=\"{N(height)}\" viewBox=\"0 0 {N(width)} {N(height)}\" ")
           .Append("font-family=\"sans-serif\">\n");
    }

    public string Finish() => svg.Append("</svg>\n").ToString();

    public void FillRectangle(double x, double y, double width, double height, Rgb color) =>
        svg.Append($"<rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(height)}\" fill=\"{color.Hex}\"/>\n");

    public void Line(PointD from, PointD to, Rgb color, double width, Dash dash = Dash.Solid) =>
        svg.Append($"<line x1=\"{N(from.X)}\" y1=\"{N(from.Y)}\" x2=\"{N(to.X)}\" y2=\"{N(to.Y)}\" stroke=\"{color.Hex}\" stroke-width=\"{N(width)}\"{DashAttributes(dash)}{(dash == Dash.Solid ? "" : " stroke-linecap=\"round\"")}/>\n");

    public void Polyline(IReadOnlyList<PointD> points, Rgb color, double width, Dash dash) =>
        svg.Append($"<polyline points=\"{string.Join(' ', points.Select(p => $"{N(p.X)},{N(p.Y)}"))}\" fill=\"none\" stroke=\"{color.Hex}\" ")
           .Append($"stroke-width=\"{N(width)}\" stroke-linejoin=\"round\" stroke-linecap=\"round\"{DashAttributes(dash)}/>\n");

    public void Dot(PointD center, double radius, Rgb fill, Rgb ring, double ringWidth) =>
        svg.Append($"<circle cx=\"{N(center.X)}\" cy=\"{N(center.Y)}\" r=\"{N(radius)}\" fill=\"{fill.Hex}\" stroke=\"{ring.Hex}\" stroke-width=\"{N(ringWidth)}\"/>\n");

    public void Text(string text, PointD at, double size, Rgb color, TextAnchor anchor, bool bold = false, bool vertical = false)
    {
        string anchorName = anchor switch { TextAnchor.Middle => "middle", TextAnchor.End => "end", _ => "start" };
        svg.Append($"<text x=\"{N(at.X)}\" y=\"{N(at.Y)}\" font-size=\"{N(size)}\" fill=\"{color.Hex}\" text-anchor=\"{anchorName}\"");
        if (bold) svg.Append(" font-weight=\"bold\"");
        if (vertical) svg.Append($" transform=\"rotate(-90 {N(at.X)} {N(at.Y)})\"");
        svg.Append('>').Append(Escape(text)).Append("</text>\n");
    }

    private static string DashAttributes(Dash dash)
    {
        var pattern = DashPatterns.For(dash);
        return pattern.Count == 0 ? "" : $" stroke-dasharray=\"{string.Join(' ', pattern.Select(N))}\"";
    }

    /// <summary>Coordinates with two decimals at most, always with a dot: enough for the eye, and small files.</summary>
    private static string N(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>
    /// Escapes the characters XML gives meaning to, and drops control characters, which XML 1.0 does not allow at all
    /// (a folder name could hold one).
    /// </summary>
    private static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsSurrogatePair(text, i)) { escaped.Append(text, i, 2); i++; continue; }
            if (char.IsControl(c) || char.IsSurrogate(c)) continue;
            escaped.Append(c switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", '"' => "&quot;", _ => c.ToString() });
        }
        return escaped.ToString();
    }
}
