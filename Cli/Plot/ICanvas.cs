namespace Engine.Cli.Plot;

internal enum TextAnchor { Start, Middle, End }

/// <summary>
/// The drawing operations ChartPainter needs, in logical pixels with y pointing down. SvgCanvas writes them as SVG
/// elements; RasterCanvas draws them into pixels; the layout itself is done once, in ChartPainter.
/// </summary>
internal interface ICanvas
{
    void FillRectangle(double x, double y, double width, double height, Rgb color);

    /// <summary>A straight line: gridlines, axes, legend samples.</summary>
    void Line(PointD from, PointD to, Rgb color, double width, Dash dash = Dash.Solid);

    /// <summary>A data series: one polyline with round joins and ends.</summary>
    void Polyline(IReadOnlyList<PointD> points, Rgb color, double width, Dash dash);

    /// <summary>A filled disc with a ring around it, so markers stand out from the line they sit on.</summary>
    void Dot(PointD center, double radius, Rgb fill, Rgb ring, double ringWidth);

    /// <summary>Text whose baseline passes through <paramref name="at"/>; vertical text reads bottom to top.</summary>
    void Text(string text, PointD at, double size, Rgb color, TextAnchor anchor, bool bold = false, bool vertical = false);
}

/// <summary>Dash patterns (on, off, …) in logical pixels, shared by both outputs so they match.</summary>
internal static class DashPatterns
{
    // Ends are round, which lengthens every dash by the line width: the gaps are set wide enough to survive that, and
    // a dot is a dash of almost no length.
    public static IReadOnlyList<double> For(Dash dash) => dash switch
    {
        Dash.Dashed => [5, 4],
        Dash.Dotted => [0.01, 3.5],
        Dash.DashDot => [6, 3.5, 0.01, 3.5],
        _ => [],
    };

    /// <summary>
    /// Splits a polyline into the pieces a dash pattern leaves drawn; the pattern carries on across corners, as SVG's
    /// stroke-dasharray does.
    /// </summary>
    public static List<List<PointD>> Split(IReadOnlyList<PointD> points, IReadOnlyList<double> pattern)
    {
        var pieces = new List<List<PointD>>();
        if (pattern.Count == 0 || points.Count < 2) { pieces.Add([.. points]); return pieces; }
        int index = 0;
        double left = pattern[0];           // length remaining in the current dash or gap
        bool drawing = true;
        var current = new List<PointD> { points[0] };
        for (int i = 1; i < points.Count; i++)
        {
            PointD a = points[i - 1], b = points[i];
            double length = Math.Sqrt((b.X - a.X) * (b.X - a.X) + (b.Y - a.Y) * (b.Y - a.Y));
            double done = 0;
            while (length - done > left)
            {
                done += left;
                var at = new PointD(a.X + (b.X - a.X) * done / length, a.Y + (b.Y - a.Y) * done / length);
                if (drawing) { current.Add(at); pieces.Add(current); }
                else current = [at];
                drawing = !drawing;
                index = (index + 1) % pattern.Count;
                left = pattern[index];
            }
            left -= length - done;
            if (drawing) current.Add(b);
        }
        if (drawing && current.Count >= 2) pieces.Add(current);
        return pieces;
    }
}
