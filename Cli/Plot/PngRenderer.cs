namespace Engine.Cli.Plot;

/// <summary>Draws a figure into pixels at a scale (2 by default, for sharp lines and text on high-density screens).</summary>
internal static class PngRenderer
{
    public const double DefaultScale = 2;

    public static Raster Render(Figure figure, double scale = DefaultScale)
    {
        var raster = new Raster((int)Math.Round(figure.Width * scale), (int)Math.Round(figure.Height * scale), Rgb.White);
        ChartPainter.Paint(figure, new RasterCanvas(raster, scale));
        return raster;
    }

    public static byte[] Encode(Figure figure, double scale = DefaultScale) => PngEncoder.Encode(Render(figure, scale));
}

/// <summary>Turns logical-pixel drawing calls into raster operations, multiplying every length by the scale.</summary>
internal sealed class RasterCanvas(Raster raster, double scale) : ICanvas
{
    private PointD Scale(PointD p) => new(p.X * scale, p.Y * scale);

    public void FillRectangle(double x, double y, double width, double height, Rgb color) =>
        raster.FillRectangle(x * scale, y * scale, width * scale, height * scale, color);

    public void Line(PointD from, PointD to, Rgb color, double width, Dash dash = Dash.Solid) =>
        Polyline([from, to], color, width, dash);

    public void Polyline(IReadOnlyList<PointD> points, Rgb color, double width, Dash dash)
    {
        // Dashes are cut in logical pixels, the same lengths the SVG's stroke-dasharray uses.
        var pieces = DashPatterns.Split(points, DashPatterns.For(dash));
        raster.StrokePolylines(pieces.Select(piece => (IReadOnlyList<PointD>)piece.Select(Scale).ToList()), width * scale, color);
    }

    public void Dot(PointD center, double radius, Rgb fill, Rgb ring, double ringWidth)
    {
        raster.FillCircle(Scale(center), (radius + ringWidth / 2) * scale, ring);
        raster.FillCircle(Scale(center), (radius - ringWidth / 2) * scale, fill);
    }

    public void Text(string text, PointD at, double size, Rgb color, TextAnchor anchor, bool bold = false, bool vertical = false)
    {
        double shift = anchor switch
        {
            TextAnchor.Middle => StrokeFont.Measure(text, size) / 2,
            TextAnchor.End => StrokeFont.Measure(text, size),
            _ => 0,
        };
        var origin = vertical ? new PointD(at.X, at.Y + shift) : new PointD(at.X - shift, at.Y);
        var strokes = StrokeFont.Layout(text, Scale(origin), size * scale, vertical);
        raster.StrokePolylines(strokes, StrokeFont.StrokeWidth(size, bold) * scale, color);
    }
}
