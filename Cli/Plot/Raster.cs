namespace Engine.Cli.Plot;

/// <summary>
/// An RGB image (8 bits a channel, rows top to bottom) with anti-aliased drawing. Every shape is first written into a
/// coverage mask (0..1 per pixel) and then blended in one pass, so where the segments of a polyline or the strokes of
/// a glyph overlap, the pixel is painted once at the highest coverage instead of darkening at every joint.
/// </summary>
internal sealed class Raster
{
    public const int Channels = 3;

    public int Width { get; }
    public int Height { get; }

    /// <summary>Row-major RGB bytes, <see cref="Width"/> × <see cref="Height"/> × 3.</summary>
    public byte[] Pixels { get; }

    private readonly float[] coverage;
    // The part of the mask the current shape touched, so blending and clearing skip the rest of the image.
    private int dirtyLeft, dirtyTop, dirtyRight = -1, dirtyBottom = -1;

    public Raster(int width, int height, Rgb background)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}×{height} must be positive");
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * Channels)];
        coverage = new float[width * height];
        for (int i = 0; i < Pixels.Length; i += Channels)
            (Pixels[i], Pixels[i + 1], Pixels[i + 2]) = (background.R, background.G, background.B);
    }

    public Rgb this[int x, int y]
    {
        get
        {
            int i = (y * Width + x) * Channels;
            return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
    }

    /// <summary>Strokes connected polylines of the given width with round ends and joins.</summary>
    public void StrokePolylines(IEnumerable<IReadOnlyList<PointD>> polylines, double width, Rgb color)
    {
        foreach (var line in polylines)
        {
            if (line.Count == 1) AddSegment(line[0], line[0], width / 2);
            for (int i = 1; i < line.Count; i++) AddSegment(line[i - 1], line[i], width / 2);
        }
        Blend(color);
    }

    public void StrokePolyline(IReadOnlyList<PointD> line, double width, Rgb color) => StrokePolylines([line], width, color);

    public void FillCircle(PointD center, double radius, Rgb color)
    {
        // A disc is a zero-length segment whose half-width is the radius.
        AddSegment(center, center, radius);
        Blend(color);
    }

    /// <summary>Fills an axis-aligned rectangle; pixels it covers in part get that fraction of the colour.</summary>
    public void FillRectangle(double x, double y, double width, double height, Rgb color)
    {
        double right = x + width, bottom = y + height;
        int left = Math.Max(0, (int)Math.Floor(x)), top = Math.Max(0, (int)Math.Floor(y));
        int last = Math.Min(Width - 1, (int)Math.Ceiling(right) - 1), lastRow = Math.Min(Height - 1, (int)Math.Ceiling(bottom) - 1);
        for (int py = top; py <= lastRow; py++)
        {
            double rowCover = Math.Min(py + 1, bottom) - Math.Max(py, y);
            for (int px = left; px <= last; px++)
            {
                double cover = rowCover * (Math.Min(px + 1, right) - Math.Max(px, x));
                Mark(px, py, (float)cover);
            }
        }
        Blend(color);
    }

    /// <summary>
    /// Adds a capsule around segment ab to the mask. A pixel's coverage is how far its centre lies inside the stroke
    /// edge, clamped to 0..1: one pixel of linear ramp across the edge, which is what makes the line look smooth.
    /// </summary>
    private void AddSegment(PointD a, PointD b, double halfWidth)
    {
        double reach = halfWidth + 1;
        int left = Math.Max(0, (int)Math.Floor(Math.Min(a.X, b.X) - reach));
        int right = Math.Min(Width - 1, (int)Math.Ceiling(Math.Max(a.X, b.X) + reach));
        int top = Math.Max(0, (int)Math.Floor(Math.Min(a.Y, b.Y) - reach));
        int bottom = Math.Min(Height - 1, (int)Math.Ceiling(Math.Max(a.Y, b.Y) + reach));
        double dx = b.X - a.X, dy = b.Y - a.Y, lengthSquared = dx * dx + dy * dy;
        for (int py = top; py <= bottom; py++)
        {
            double cy = py + 0.5;
            for (int px = left; px <= right; px++)
            {
                double cx = px + 0.5;
                // Nearest point of the segment to the pixel centre: project, then clamp to the segment's ends.
                double t = lengthSquared == 0 ? 0 : Math.Clamp(((cx - a.X) * dx + (cy - a.Y) * dy) / lengthSquared, 0, 1);
                double ex = cx - (a.X + t * dx), ey = cy - (a.Y + t * dy);
                double cover = halfWidth + 0.5 - Math.Sqrt(ex * ex + ey * ey);
                if (cover > 0) Mark(px, py, (float)Math.Min(1, cover));
            }
        }
    }

    private void Mark(int x, int y, float cover)
    {
        if (cover <= 0) return;
        int i = y * Width + x;
        if (cover > coverage[i]) coverage[i] = cover;
        if (dirtyRight < dirtyLeft) (dirtyLeft, dirtyTop, dirtyRight, dirtyBottom) = (x, y, x, y);
        else
        {
            dirtyLeft = Math.Min(dirtyLeft, x); dirtyRight = Math.Max(dirtyRight, x);
            dirtyTop = Math.Min(dirtyTop, y); dirtyBottom = Math.Max(dirtyBottom, y);
        }
    }

    /// <summary>Paints the colour over the image in proportion to the mask, then clears the mask.</summary>
    private void Blend(Rgb color)
    {
        for (int y = dirtyTop; y <= dirtyBottom; y++)
            for (int x = dirtyLeft; x <= dirtyRight; x++)
            {
                int i = y * Width + x;
                float alpha = coverage[i];
                if (alpha <= 0) continue;
                coverage[i] = 0;
                int p = i * Channels;
                Pixels[p] = Mix(Pixels[p], color.R, alpha);
                Pixels[p + 1] = Mix(Pixels[p + 1], color.G, alpha);
                Pixels[p + 2] = Mix(Pixels[p + 2], color.B, alpha);
            }
        (dirtyLeft, dirtyTop, dirtyRight, dirtyBottom) = (0, 0, -1, -1);
    }

    private static byte Mix(byte under, byte over, float alpha) => (byte)Math.Round(under + (over - under) * alpha);
}
