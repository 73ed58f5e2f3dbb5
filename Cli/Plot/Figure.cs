using System.Text;
using System.Text.RegularExpressions;
using ScottPlot;
using SkiaSharp;

namespace Engine.Cli.Plot;

/// <summary>
/// ScottPlot panels side by side, then legend rows below them, in logical pixels. One drawing routine serves both
/// outputs, so the SVG and the PNG always show the same picture.
/// </summary>
internal sealed partial class Figure : IDisposable
{
    public Figure(IReadOnlyList<ScottPlot.Plot> panels, IReadOnlyList<Legend> legends, int width, int panelsHeight)
    {
        Panels = panels;
        Legends = legends;
        Width = width;
        PanelsHeight = panelsHeight;
        // Each legend wraps within the figure's width; the figure grows by what the legends need, so the panels keep
        // their size however many runs there are.
        using var paint = Paint.NewDisposablePaint();
        LegendHeights = legends.Select(l => (int)Math.Ceiling(l.GetLayout(new PixelSize(width, float.MaxValue), paint).LegendRect.Height)).ToList();
        Height = panelsHeight + LegendHeights.Sum();
    }

    public IReadOnlyList<ScottPlot.Plot> Panels { get; }
    public IReadOnlyList<Legend> Legends { get; }
    public int Width { get; }
    public int Height { get; }
    private int PanelsHeight { get; }
    private IReadOnlyList<int> LegendHeights { get; }

    public string ToSvg()
    {
        using var stream = new MemoryStream();
        // Skia completes the document only when the canvas is disposed.
        using (var canvas = SKSvgCanvas.Create(new SKRect(0, 0, Width, Height), stream))
            Draw(canvas);
        // Skia names only the family it drew with; a viewer that lacks it should still choose a sans-serif face.
        return FontFamily().Replace(Encoding.UTF8.GetString(stream.ToArray()), "font-family=\"$1, sans-serif\"");
    }

    /// <summary>PNG bytes at <paramref name="scale"/> device pixels per logical pixel.</summary>
    public byte[] ToPng(int scale)
    {
        using var surface = SKSurface.Create(new SKImageInfo(Width * scale, Height * scale))
            ?? throw new InvalidOperationException($"cannot make a {Width * scale}x{Height * scale} image");
        surface.Canvas.Scale(scale);
        Draw(surface.Canvas);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private void Draw(SKCanvas canvas)
    {
        canvas.Clear(SKColors.White);
        float panelWidth = (float)Width / Panels.Count;
        for (int i = 0; i < Panels.Count; i++)
        {
            // Each panel paints only its own rectangle, over the shared white background.
            Panels[i].RenderManager.ClearCanvasBeforeEachRender = false;
            Panels[i].Render(canvas, new PixelRect(i * panelWidth, (i + 1) * panelWidth, PanelsHeight, 0));
        }
        using var paint = Paint.NewDisposablePaint();
        float top = PanelsHeight;
        for (int i = 0; i < Legends.Count; i++)
        {
            Legends[i].Render(canvas, paint, new PixelRect(0, Width, top + LegendHeights[i], top), Alignment.UpperCenter);
            top += LegendHeights[i];
        }
    }

    [GeneratedRegex("font-family=\"([^\"]*)\"")]
    private static partial Regex FontFamily();

    public void Dispose()
    {
        foreach (var panel in Panels) panel.Dispose();
    }
}
