namespace Engine.Cli.Plot;

/// <summary>
/// Lays a figure out (panel frames, axes, ticks, legend) and draws it onto a canvas. Text widths come from the stroke
/// font's metrics, which are close to those of a sans-serif font, so the SVG and the PNG share one layout.
/// </summary>
internal static class ChartPainter
{
    private const double Margin = 14;
    private const double PanelGap = 22;
    private const double TitleSize = 13;
    private const double LabelSize = 12;
    private const double TickSize = 11;
    private const double LegendSize = 12;
    private const double LegendRowHeight = 22;
    private const double LegendSampleLength = 26;
    private const double SeriesWidth = 1.8;
    private const double MarkerRadius = 4;

    public static void Paint(Figure figure, ICanvas canvas)
    {
        canvas.FillRectangle(0, 0, figure.Width, figure.Height, Rgb.White);
        var legendRows = LayOutLegend(figure.Width, figure.Legend);
        double legendTop = figure.Height - Margin - legendRows.Count * LegendRowHeight;
        int count = Math.Max(1, figure.Panels.Count);
        double panelWidth = (figure.Width - 2 * Margin - (count - 1) * PanelGap) / count;
        for (int i = 0; i < figure.Panels.Count; i++)
        {
            double left = Margin + i * (panelWidth + PanelGap);
            PaintPanel(figure.Panels[i], canvas, left, Margin, left + panelWidth, legendTop - 8);
        }
        PaintLegend(legendRows, canvas, legendTop);
    }

    private static void PaintPanel(Panel panel, ICanvas canvas, double left, double top, double right, double bottom)
    {
        var points = panel.Series.SelectMany(s => s.Points).Concat(panel.Markers.Select(m => m.At)).Where(p => Drawable(p, panel.YScale)).ToList();
        double plotTop = top + 26, plotBottom = bottom - 36;
        var yAxis = points.Count == 0
            ? Axis.Linear(0, 1, 4, snapOutward: true, integers: false)
            : panel.YScale == AxisScale.Log
                ? Axis.Log(points.Min(p => p.Y), points.Max(p => p.Y))
                : Axis.Linear(points.Min(p => p.Y), points.Max(p => p.Y), TickCount(plotBottom - plotTop, 42), snapOutward: true, integers: false);

        // The y label sits along the left edge, the tick labels right-aligned against the plot: measure them first.
        double widestTick = yAxis.Ticks.Where(t => t.Label is not null).Select(t => StrokeFont.Measure(t.Label!, TickSize)).DefaultIfEmpty(0).Max();
        double yLabelBaseline = left + LabelSize * StrokeFont.CapHeightPerSize + 1;
        double plotLeft = Math.Round(yLabelBaseline + 8 + widestTick + 6);
        double plotRight = Math.Round(right - 8);
        plotTop = Math.Round(plotTop);
        plotBottom = Math.Round(plotBottom);

        var xAxis = points.Count == 0
            ? Axis.Linear(0, 1, 4, snapOutward: false, integers: true)
            : Axis.Linear(points.Min(p => p.X), points.Max(p => p.X), TickCount(plotRight - plotLeft, 45), snapOutward: false, integers: true);

        PointD ToCanvas(PointD p) => new(
            plotLeft + xAxis.Fraction(p.X) * (plotRight - plotLeft),
            plotBottom - yAxis.Fraction(p.Y) * (plotBottom - plotTop));

        // Gridlines on half pixels, so a one-pixel line covers whole pixels (in the SVG at 1×, in the PNG at 2×).
        foreach (var tick in yAxis.Ticks.OrderBy(t => t.Label is not null))
        {
            double y = Crisp(ToCanvas(new PointD(xAxis.Min, tick.Value)).Y);
            canvas.Line(new PointD(plotLeft, y), new PointD(plotRight, y), tick.Label is null ? Palette.MinorGrid : Palette.Grid, 1);
            if (tick.Label is not null)
                canvas.Text(tick.Label, new PointD(plotLeft - 6, y + TickSize * StrokeFont.CapHeightPerSize / 2), TickSize, Palette.TickText, TextAnchor.End);
        }
        foreach (var tick in xAxis.Ticks)
        {
            double x = Crisp(ToCanvas(new PointD(tick.Value, yAxis.Min)).X);
            canvas.Line(new PointD(x, plotTop), new PointD(x, plotBottom), Palette.Grid, 1);
            canvas.Line(new PointD(x, plotBottom), new PointD(x, plotBottom + 4), Palette.Axis, 1);
            canvas.Text(tick.Label!, new PointD(x, plotBottom + 6 + TickSize * StrokeFont.CapHeightPerSize), TickSize, Palette.TickText, TextAnchor.Middle);
        }
        canvas.Line(new PointD(plotLeft - 0.5, plotBottom + 0.5), new PointD(plotRight, plotBottom + 0.5), Palette.Axis, 1);
        canvas.Line(new PointD(plotLeft - 0.5, plotTop), new PointD(plotLeft - 0.5, plotBottom + 0.5), Palette.Axis, 1);

        foreach (var series in panel.Series)
        {
            var line = series.Points.Where(p => Drawable(p, panel.YScale)).Select(ToCanvas).ToList();
            if (line.Count == 0) continue;
            // A lone point (a run of one epoch) is a zero-length line, which round ends would show as a speck: give it
            // a dot that can be seen.
            if (line.Count == 1)
            {
                line.Add(line[0]);
                canvas.Dot(line[0], SeriesWidth * 1.4, series.Color, series.Color, 0);
            }
            canvas.Polyline(line, series.Color, series.Dash == Dash.Solid ? SeriesWidth : SeriesWidth * 0.85, series.Dash);
        }
        foreach (var marker in panel.Markers.Where(m => Drawable(m.At, panel.YScale)))
            canvas.Dot(ToCanvas(marker.At), MarkerRadius, marker.Color, Rgb.White, 1.5);
        if (points.Count == 0)
            canvas.Text("no data", new PointD((plotLeft + plotRight) / 2, (plotTop + plotBottom) / 2), LabelSize, Palette.TickText, TextAnchor.Middle);

        double middle = (plotLeft + plotRight) / 2;
        canvas.Text(panel.Title, new PointD(middle, top + TitleSize * StrokeFont.CapHeightPerSize + 2), TitleSize, Palette.Text, TextAnchor.Middle, bold: true);
        canvas.Text(panel.XLabel, new PointD(middle, bottom - 3), LabelSize, Palette.Text, TextAnchor.Middle);
        canvas.Text(panel.YLabel, new PointD(yLabelBaseline, (plotTop + plotBottom) / 2), LabelSize, Palette.Text, TextAnchor.Middle, vertical: true);
    }

    private static bool Drawable(PointD p, AxisScale scale) =>
        double.IsFinite(p.X) && double.IsFinite(p.Y) && (scale == AxisScale.Linear || p.Y > 0);

    private static int TickCount(double length, double spacing) => Math.Clamp((int)(length / spacing), 2, 8);

    private static double Crisp(double coordinate) => Math.Floor(coordinate) + 0.5;

    /// <summary>Height the legend takes at the bottom of a figure of this width, its bottom margin included.</summary>
    public static double LegendHeight(double figureWidth, IReadOnlyList<IReadOnlyList<LegendItem>> legend) =>
        LayOutLegend(figureWidth, legend).Count * LegendRowHeight + Margin;

    private sealed record PlacedItem(LegendItem Item, double X);

    /// <summary>Legend rows, each centred; a group wraps onto further rows when it is wider than the figure.</summary>
    private static List<List<PlacedItem>> LayOutLegend(double figureWidth, IReadOnlyList<IReadOnlyList<LegendItem>> legend)
    {
        var rows = new List<List<PlacedItem>>();
        double available = figureWidth - 2 * Margin;
        foreach (var group in legend)
        {
            var row = new List<(LegendItem Item, double Width)>();
            double used = 0;
            foreach (var item in group)
            {
                double width = LegendSampleLength + 6 + StrokeFont.Measure(item.Label, LegendSize) + 20;
                if (row.Count > 0 && used + width > available)
                {
                    rows.Add(Centre(row, used, figureWidth));
                    (row, used) = ([], 0);
                }
                row.Add((item, width));
                used += width;
            }
            if (row.Count > 0) rows.Add(Centre(row, used, figureWidth));
        }
        return rows;
    }

    private static List<PlacedItem> Centre(List<(LegendItem Item, double Width)> row, double used, double figureWidth)
    {
        // The last item's trailing gap is not part of what is seen, so leave it out when centring.
        double x = Math.Max(Margin, (figureWidth - (used - 20)) / 2);
        var placed = new List<PlacedItem>();
        foreach (var (item, width) in row)
        {
            placed.Add(new PlacedItem(item, x));
            x += width;
        }
        return placed;
    }

    private static void PaintLegend(List<List<PlacedItem>> rows, ICanvas canvas, double top)
    {
        for (int r = 0; r < rows.Count; r++)
        {
            double middle = top + r * LegendRowHeight + LegendRowHeight / 2;
            foreach (var (item, x) in rows[r])
            {
                if (item.Symbol == LegendSymbol.Dot)
                    canvas.Dot(new PointD(x + LegendSampleLength / 2, middle), MarkerRadius, item.Color, Rgb.White, 1.5);
                else
                    canvas.Line(new PointD(x + 1, middle), new PointD(x + LegendSampleLength - 1, middle), item.Color, SeriesWidth + 0.4, item.Dash);
                canvas.Text(item.Label, new PointD(x + LegendSampleLength + 6, middle + LegendSize * StrokeFont.CapHeightPerSize / 2), LegendSize, Palette.Text, TextAnchor.Start);
            }
        }
    }
}
