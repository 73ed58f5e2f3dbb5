using System.Globalization;

namespace Engine.Cli.Plot;

/// <summary>
/// A small vector font for the PNG renderer: each glyph is a few polylines on a grid where y = 0 is the top of the
/// capitals, 2 the top of lowercase letters, 6 the baseline and 8 the bottom of descenders; x starts at 0. Drawing
/// the strokes with the anti-aliased line routine makes text sharp at any scale, with no font file and no library.
/// </summary>
/// <remarks>
/// A glyph is written as strokes separated by <c>;</c>. A stroke is a sequence of points <c>x,y</c> and elliptical
/// arcs <c>(cx,cy,rx,ry,from,to)</c>, all joined in order; arc angles are in degrees, counter-clockwise as seen on
/// screen with 0 pointing right, and the arc runs from <c>from</c> to <c>to</c> whichever way that is.
/// </remarks>
internal static class StrokeFont
{
    /// <summary>Grid units from the top of a capital to the baseline.</summary>
    public const double CapUnits = 6;

    /// <summary>Capital height as a fraction of the font size, about what sans-serif fonts use, so SVG text matches.</summary>
    public const double CapHeightPerSize = 0.72;

    private const double LetterGap = 1.5;
    private const double SpaceAdvance = 2.8;

    private static readonly Dictionary<char, string> Definitions = new()
    {
        [' '] = "",
        ['!'] = "0.5,0 0.5,4.2; 0.5,5.8 0.5,6",
        ['"'] = "0.4,0 0.4,1.6; 2,0 2,1.6",
        ['#'] = "1.4,0 0.8,6; 3.4,0 2.8,6; 0,2 4,2; 0,4 4,4",
        ['$'] = "(1.9,1.9,1.8,1.2,30,270) (1.9,4.3,1.8,1.2,90,-150); 1.9,-0.3 1.9,6.4",
        ['%'] = "0.2,6 3.6,0; (0.8,1,0.8,1,0,360); (3,5,0.8,1,0,360)",
        ['&'] = "4,6 1.1,2.2 1.1,1 1.6,0.2 2.4,0.2 2.8,1 2.6,1.8 0.4,4 0.4,5.2 1,5.9 2.2,6 3.2,5.3 3.9,3.8",
        ['\''] = "0.4,0 0.4,1.6",
        ['('] = "(2.6,3,2.4,3.6,120,240)",
        [')'] = "(-1.2,3,2.4,3.6,60,-60)",
        ['*'] = "1.5,0.5 1.5,3.5; 0.2,1.2 2.8,2.8; 0.2,2.8 2.8,1.2",
        ['+'] = "0,3.6 3.4,3.6; 1.7,1.9 1.7,5.3",
        [','] = "0.7,5.6 0.7,6.2 0.1,7.2",
        ['-'] = "0,3.6 2.4,3.6",
        ['.'] = "0.4,5.75 0.4,6",
        ['/'] = "0,6.4 3,-0.3",
        ['0'] = "(1.9,3,1.9,3,0,360)",
        ['1'] = "0.5,1.3 2,0 2,6; 0.5,6 3.5,6",
        ['2'] = "(1.9,1.9,1.9,1.9,150,-30) 0,6 3.9,6",
        ['3'] = "(1.9,1.5,1.8,1.5,150,-90) (1.9,4.5,2,1.5,90,-150)",
        ['4'] = "2.9,6 2.9,0 0,4.2 4,4.2",
        ['5'] = "3.6,0 0.5,0 0.3,2.8 (1.9,4.1,1.9,1.9,125,-140)",
        ['6'] = "(4,4.1,3.9,4.1,100,180); (1.95,4.1,1.9,1.9,0,360)",
        ['7'] = "0,0 3.9,0 1.4,6",
        ['8'] = "(1.9,1.5,1.6,1.5,0,360); (1.9,4.5,1.9,1.5,0,360)",
        ['9'] = "(1.9,1.9,1.9,1.9,0,360); (-0.1,1.9,3.9,4.1,0,-80)",
        [':'] = "0.5,2.4 0.5,2.65; 0.5,5.75 0.5,6",
        [';'] = "0.7,2.4 0.7,2.65; 0.7,5.6 0.7,6.2 0.1,7.2",
        ['<'] = "3.2,1.8 0,3.8 3.2,5.8",
        ['='] = "0,2.8 3.2,2.8; 0,4.6 3.2,4.6",
        ['>'] = "0,1.8 3.2,3.8 0,5.8",
        ['?'] = "(1.8,1.7,1.8,1.7,160,-60) 1.8,3.6 1.8,4.3; 1.8,5.75 1.8,6",
        ['@'] = "3.3,2.1 3.3,4.2 (3.9,4.2,0.6,0.6,180,360) 5,3.2 (2.5,3.2,2.5,2.9,0,320); (2.3,3.3,1,1.2,0,360)",
        ['A'] = "0,6 2,0 4,6; 0.7,4 3.3,4",
        ['B'] = "0,6 0,0 2.8,0 (2.8,1.5,1.2,1.5,90,-90) 0,3; 0,3 2.8,3 (2.8,4.5,1.4,1.5,90,-90) 0,6",
        ['C'] = "(2.3,3,2.3,3,45,315)",
        ['D'] = "0,0 0,6 1.5,6 (1.5,3,2.5,3,-90,90) 0,0",
        ['E'] = "3.8,0 0,0 0,6 3.8,6; 0,3 3,3",
        ['F'] = "3.8,0 0,0 0,6; 0,3 3,3",
        ['G'] = "(2.1,3,2.1,3,45,360) 2.4,3",
        ['H'] = "0,0 0,6; 4,0 4,6; 0,3 4,3",
        ['I'] = "0,0 2,0; 1,0 1,6; 0,6 2,6",
        ['J'] = "3,0 3,4.5 (1.5,4.5,1.5,1.5,0,-180)",
        ['K'] = "0,0 0,6; 4,0 0,3.6; 1.4,2.6 4,6",
        ['L'] = "0,0 0,6 3.5,6",
        ['M'] = "0,6 0,0 2.5,4 5,0 5,6",
        ['N'] = "0,6 0,0 4,6 4,0",
        ['O'] = "(2.2,3,2.2,3,0,360)",
        ['P'] = "0,6 0,0 2.6,0 (2.6,1.6,1.4,1.6,90,-90) 0,3.2",
        ['Q'] = "(2.2,3,2.2,3,0,360); 2.6,4.4 4.6,6.4",
        ['R'] = "0,6 0,0 2.6,0 (2.6,1.6,1.4,1.6,90,-90) 0,3.2; 2.2,3.2 4,6",
        ['S'] = "(2,1.5,1.9,1.5,30,270) (2,4.5,1.9,1.5,90,-150)",
        ['T'] = "0,0 4,0; 2,0 2,6",
        ['U'] = "0,0 0,4 (2,4,2,2,180,360) 4,0",
        ['V'] = "0,0 2,6 4,0",
        ['W'] = "0,0 1.25,6 2.5,2 3.75,6 5,0",
        ['X'] = "0,0 4,6; 4,0 0,6",
        ['Y'] = "0,0 2,3 4,0; 2,3 2,6",
        ['Z'] = "0,0 4,0 0,6 4,6",
        ['['] = "1.5,-0.3 0,-0.3 0,6.3 1.5,6.3",
        ['\\'] = "0,-0.3 3,6.4",
        [']'] = "0,-0.3 1.5,-0.3 1.5,6.3 0,6.3",
        ['^'] = "0,2.2 1.6,0 3.2,2.2",
        ['_'] = "0,7.2 4,7.2",
        ['`'] = "0,0 1,1.2",
        ['a'] = "3.5,2 3.5,6; (1.75,4,1.75,2,0,360)",
        ['b'] = "0,0 0,6; (1.75,4,1.75,2,0,360)",
        ['c'] = "(1.8,4,1.8,2,45,315)",
        ['d'] = "3.5,0 3.5,6; (1.75,4,1.75,2,0,360)",
        ['e'] = "0,4 3.5,4 (1.75,4,1.75,2,0,315)",
        ['f'] = "(2.2,1.3,1,1.1,60,180) 1.2,6; 0,2 2.6,2",
        ['g'] = "3.5,2 3.5,7 (1.75,7,1.75,1,0,-160); (1.75,4,1.75,2,0,360)",
        ['h'] = "0,0 0,6; 0,3.5 (1.75,3.5,1.75,1.5,180,0) 3.5,6",
        ['i'] = "0.5,2 0.5,6; 0.5,0.6 0.5,0.85",
        ['j'] = "2,2 2,7 (1,7,1,1,0,-160); 2,0.6 2,0.85",
        ['k'] = "0,0 0,6; 3.2,2 0,4.4; 1.2,3.6 3.4,6",
        ['l'] = "0.5,0 0.5,6",
        ['m'] = "0,2 0,6; 0,3.2 (1.25,3.2,1.25,1.2,180,0) 2.5,6; 2.5,3.2 (3.75,3.2,1.25,1.2,180,0) 5,6",
        ['n'] = "0,2 0,6; 0,3.5 (1.75,3.5,1.75,1.5,180,0) 3.5,6",
        ['o'] = "(1.8,4,1.8,2,0,360)",
        ['p'] = "0,2 0,8; (1.75,4,1.75,2,0,360)",
        ['q'] = "3.5,2 3.5,8; (1.75,4,1.75,2,0,360)",
        ['r'] = "0,2 0,6; 0,3.8 (2,3.8,2,1.8,180,60)",
        ['s'] = "(1.6,3,1.5,1,30,270) (1.6,5,1.5,1,90,-150)",
        ['t'] = "1,0.6 1,5 (2,5,1,1,180,300); 0,2 2.6,2",
        ['u'] = "0,2 0,4.5 (1.75,4.5,1.75,1.5,180,360); 3.5,2 3.5,6",
        ['v'] = "0,2 1.75,6 3.5,2",
        ['w'] = "0,2 1.2,6 2.5,3 3.8,6 5,2",
        ['x'] = "0,2 3.5,6; 3.5,2 0,6",
        ['y'] = "0,2 1.9,6.2; 3.5,2 1.4,8 0.4,8",
        ['z'] = "0,2 3.5,2 0,6 3.5,6",
        ['{'] = "2,-0.3 1.3,-0.1 1,0.6 1,2.4 0.2,3 1,3.6 1,5.4 1.3,6.1 2,6.3",
        ['|'] = "0.5,-0.5 0.5,7",
        ['}'] = "0,-0.3 0.7,-0.1 1,0.6 1,2.4 1.8,3 1,3.6 1,5.4 0.7,6.1 0,6.3",
        ['~'] = "0,3.9 0.5,3.3 1.1,3.2 2.1,3.8 2.7,3.7 3.2,3.1",
    };

    private static readonly Dictionary<char, Glyph> Glyphs = Definitions.ToDictionary(d => d.Key, d => Parse(d.Key, d.Value));

    private sealed record Glyph(IReadOnlyList<IReadOnlyList<PointD>> Strokes, double Advance);

    /// <summary>The glyph's strokes in grid units; characters the font lacks are drawn as '?'.</summary>
    public static IReadOnlyList<IReadOnlyList<PointD>> Strokes(char c) => Lookup(c).Strokes;

    /// <summary>How wide a text is at a font size (logical pixels).</summary>
    public static double Measure(string text, double size) => text.Sum(c => Lookup(c).Advance) * UnitsToPixels(size);

    /// <summary>Stroke width for text: heavier for bold, and never thinner than a hairline.</summary>
    public static double StrokeWidth(double size, bool bold) => Math.Max(0.6, size * (bold ? 0.115 : 0.085));

    /// <summary>
    /// The text's strokes in pixels, starting at <paramref name="origin"/> on the baseline. Vertical text reads bottom
    /// to top (rotated a quarter turn anticlockwise), as y-axis labels do.
    /// </summary>
    public static List<PointD[]> Layout(string text, PointD origin, double size, bool vertical)
    {
        double unit = UnitsToPixels(size);
        var strokes = new List<PointD[]>();
        double pen = 0;
        foreach (char c in text)
        {
            var glyph = Lookup(c);
            foreach (var stroke in glyph.Strokes)
                strokes.Add(stroke.Select(p =>
                {
                    double along = pen + p.X * unit, down = (p.Y - CapUnits) * unit;
                    return vertical ? new PointD(origin.X + down, origin.Y - along) : new PointD(origin.X + along, origin.Y + down);
                }).ToArray());
            pen += glyph.Advance * unit;
        }
        return strokes;
    }

    private static double UnitsToPixels(double size) => size * CapHeightPerSize / CapUnits;

    private static Glyph Lookup(char c) => Glyphs.TryGetValue(c, out var glyph) ? glyph : Glyphs['?'];

    private static Glyph Parse(char c, string definition)
    {
        var strokes = new List<IReadOnlyList<PointD>>();
        foreach (var strokeText in definition.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var points = new List<PointD>();
            int i = 0;
            while (i < strokeText.Length)
            {
                if (strokeText[i] == ' ') { i++; continue; }
                if (strokeText[i] == '(')
                {
                    int close = strokeText.IndexOf(')', i);
                    var a = Numbers(c, strokeText[(i + 1)..close], 6);
                    AddArc(points, new PointD(a[0], a[1]), a[2], a[3], a[4], a[5]);
                    i = close + 1;
                }
                else
                {
                    int end = strokeText.IndexOf(' ', i);
                    if (end < 0) end = strokeText.Length;
                    var xy = Numbers(c, strokeText[i..end], 2);
                    points.Add(new PointD(xy[0], xy[1]));
                    i = end;
                }
            }
            if (points.Count < 2) throw new InvalidOperationException($"stroke font: glyph '{c}' has a stroke with fewer than two points");
            strokes.Add(points);
        }
        double advance = strokes.Count == 0 ? SpaceAdvance : strokes.SelectMany(s => s).Max(p => p.X) + LetterGap;
        return new Glyph(strokes, advance);
    }

    private static double[] Numbers(char c, string text, int count)
    {
        var parts = text.Split(',');
        if (parts.Length != count) throw new InvalidOperationException($"stroke font: glyph '{c}': '{text}' should have {count} numbers");
        return parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>Appends an elliptical arc as short chords, about one per 12 degrees, which is smooth at text sizes.</summary>
    private static void AddArc(List<PointD> points, PointD center, double rx, double ry, double fromDegrees, double toDegrees)
    {
        int chords = Math.Max(2, (int)Math.Ceiling(Math.Abs(toDegrees - fromDegrees) / 12));
        for (int k = 0; k <= chords; k++)
        {
            double radians = (fromDegrees + (toDegrees - fromDegrees) * k / chords) * Math.PI / 180;
            // Screen y grows downwards, so a counter-clockwise angle subtracts from y.
            points.Add(new PointD(center.X + rx * Math.Cos(radians), center.Y - ry * Math.Sin(radians)));
        }
    }
}
