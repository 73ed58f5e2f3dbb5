using System.Globalization;

namespace Engine.Cli.Plot;

/// <summary>A gridline position; ticks without a label are minor gridlines (the 2…9 between decades on a log axis).</summary>
internal readonly record struct Tick(double Value, string? Label);

/// <summary>
/// The range an axis shows and its ticks, chosen so that labels are round numbers: 1, 2 or 5 times a power of ten on
/// a linear axis, powers of ten (and 2 and 5 times them when the range is short) on a log axis.
/// </summary>
internal sealed class Axis
{
    public double Min { get; }
    public double Max { get; }
    public AxisScale Scale { get; }
    public IReadOnlyList<Tick> Ticks { get; }

    private Axis(double min, double max, AxisScale scale, IReadOnlyList<Tick> ticks) =>
        (Min, Max, Scale, Ticks) = (min, max, scale, ticks);

    /// <summary>Where a value lies along the axis: 0 at Min, 1 at Max.</summary>
    public double Fraction(double value) => Scale == AxisScale.Log
        ? (Math.Log10(value) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min))
        : (value - Min) / (Max - Min);

    /// <summary>
    /// A linear axis over [low, high]. With <paramref name="snapOutward"/> the range grows to the ticks just outside
    /// the data, so lines never run along the frame; otherwise it is the data range and ticks fall inside it.
    /// <paramref name="integers"/> keeps the step at 1 or more (epochs).
    /// </summary>
    public static Axis Linear(double low, double high, int targetTicks, bool snapOutward, bool integers)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high)) (low, high) = (0, 1);
        if (low == high)
        {
            // A flat line still needs a range: widen it by a step that suits the value's size.
            double pad = integers ? 1 : low == 0 ? 1 : Math.Abs(low) * 0.1;
            (low, high) = (low - pad, high + pad);
        }
        double step = NiceStep((high - low) / Math.Max(1, targetTicks));
        if (integers) step = Math.Max(1, step);
        if (snapOutward)
        {
            low = Math.Floor(low / step + 1e-9) * step;
            high = Math.Ceiling(high / step - 1e-9) * step;
        }
        int decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step) + 1e-9), 0, 12);
        var ticks = new List<Tick>();
        // Ticks are k·step for whole k, counted rather than accumulated, so they do not drift (0.30000000000000004).
        for (long k = (long)Math.Ceiling(low / step - 1e-9); k * step <= high + step * 1e-9; k++)
        {
            double value = k * step;
            ticks.Add(new Tick(value, (value == 0 ? 0 : value).ToString("F" + decimals, CultureInfo.InvariantCulture)));
        }
        return new Axis(low, high, AxisScale.Linear, ticks);
    }

    /// <summary>A log axis over whole decades around [low, high], both positive.</summary>
    public static Axis Log(double low, double high)
    {
        if (!(low > 0) || !(high > 0) || !double.IsFinite(low) || !double.IsFinite(high)) (low, high) = (0.1, 1);
        int first = (int)Math.Floor(Math.Log10(low) + 1e-9);
        int last = (int)Math.Ceiling(Math.Log10(high) - 1e-9);
        if (last <= first) last = first + 1;
        int decades = last - first;
        // Label every decade on short ranges, every second or third on long ones, so labels never crowd.
        int labelEvery = (decades + 5) / 6;
        var ticks = new List<Tick>();
        for (int d = first; d <= last; d++)
        {
            double power = Math.Pow(10, d);
            ticks.Add(new Tick(power, (d - first) % labelEvery == 0 ? FormatLogValue(power) : null));
            if (d == last || decades > 3) continue;
            for (int m = 2; m <= 9; m++)
                ticks.Add(new Tick(m * power, decades == 1 && (m == 2 || m == 5) ? FormatLogValue(m * power) : null));
        }
        return new Axis(Math.Pow(10, first), Math.Pow(10, last), AxisScale.Log, ticks);
    }

    /// <summary>The smallest of 1, 2, 5 or 10 times a power of ten that is at least <paramref name="rough"/>.</summary>
    public static double NiceStep(double rough)
    {
        if (!(rough > 0) || !double.IsFinite(rough)) return 1;
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double mantissa = rough / power;
        double nice = mantissa <= 1 + 1e-9 ? 1 : mantissa <= 2 + 1e-9 ? 2 : mantissa <= 5 + 1e-9 ? 5 : 10;
        return nice * power;
    }

    /// <summary>Plain decimals where they stay short (0.001, 200), otherwise 1e-5 style.</summary>
    private static string FormatLogValue(double value) =>
        value is >= 1e-4 and < 1e6
            ? value.ToString("0.####", CultureInfo.InvariantCulture)
            : value.ToString("0e0", CultureInfo.InvariantCulture);
}
