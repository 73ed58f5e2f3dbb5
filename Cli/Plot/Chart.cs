using System.Globalization;

namespace Engine.Cli.Plot;

// The chart model: what to draw, in data coordinates, with no idea of pixels. ChartPainter lays it out once and both
// the SVG writer and the PNG renderer draw that same layout, so the two files always show the same picture.

/// <summary>An opaque sRGB colour.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    public static readonly Rgb White = new(255, 255, 255);
    public static readonly Rgb Black = new(0, 0, 0);

    /// <summary>Parses <c>#rrggbb</c>.</summary>
    public static Rgb Parse(string hex) =>
        new(byte.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber),
            byte.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber),
            byte.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber));

    public string Hex => $"#{R:x2}{G:x2}{B:x2}";
}

internal readonly record struct PointD(double X, double Y);

/// <summary>How a line is drawn; the loss terms of a run share its colour and differ by dash.</summary>
internal enum Dash { Solid, Dashed, Dotted, DashDot }

internal enum AxisScale { Linear, Log }

/// <summary>One line: points in data coordinates, in the order they are joined. Non-finite points are not drawn.</summary>
internal sealed record Series(string Name, Rgb Color, Dash Dash, IReadOnlyList<PointD> Points);

/// <summary>A dot at a data point, e.g. a run's best validation epoch.</summary>
internal sealed record Marker(PointD At, Rgb Color);

internal sealed record Panel(string Title, string XLabel, string YLabel, AxisScale YScale, IReadOnlyList<Series> Series, IReadOnlyList<Marker> Markers);

internal enum LegendSymbol { Line, Dot }

internal sealed record LegendItem(string Label, Rgb Color, Dash Dash, LegendSymbol Symbol = LegendSymbol.Line);

/// <summary>
/// Panels side by side, then the legend below them; each legend group starts a new row (runs first, then the key to
/// the line styles). Width and height are in logical pixels: the SVG's user units, and the PNG at its scale.
/// </summary>
internal sealed record Figure(double Width, double Height, IReadOnlyList<Panel> Panels, IReadOnlyList<IReadOnlyList<LegendItem>> Legend);

/// <summary>
/// The Okabe–Ito palette, which stays distinguishable under the common colour-vision deficiencies. Yellow comes last
/// because it is hard to see on white.
/// </summary>
internal static class Palette
{
    public static readonly IReadOnlyList<Rgb> Runs =
        [Rgb.Parse("#0072B2"), Rgb.Parse("#D55E00"), Rgb.Parse("#009E73"), Rgb.Parse("#CC79A7"),
         Rgb.Parse("#E69F00"), Rgb.Parse("#56B4E9"), Rgb.Parse("#000000"), Rgb.Parse("#F0E442")];

    public static Rgb Run(int index) => Runs[index % Runs.Count];

    public static readonly Rgb Text = Rgb.Parse("#222222");
    public static readonly Rgb TickText = Rgb.Parse("#444444");
    public static readonly Rgb Axis = Rgb.Parse("#555555");
    public static readonly Rgb Grid = Rgb.Parse("#e4e4e4");
    public static readonly Rgb MinorGrid = Rgb.Parse("#f1f1f1");
    public static readonly Rgb Key = Rgb.Parse("#555555");
}
