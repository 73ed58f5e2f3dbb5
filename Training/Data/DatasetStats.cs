using System.Globalization;

namespace Engine.Training.Data;

/// <summary>Quantiles of a degree distribution, interpolated linearly between order statistics as numpy.quantile does.</summary>
public sealed record DegreeQuantiles(int Min, double P25, double P50, double P75, double P90, double P99, int Max)
{
    public static DegreeQuantiles Of(int[] degrees)
    {
        if (degrees.Length == 0) return new DegreeQuantiles(0, 0, 0, 0, 0, 0, 0);
        var sorted = (int[])degrees.Clone();
        Array.Sort(sorted);
        double At(double q)
        {
            double pos = q * (sorted.Length - 1);
            int lo = (int)pos, hi = Math.Min(lo + 1, sorted.Length - 1);
            return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
        }
        return new DegreeQuantiles(sorted[0], At(0.25), At(0.5), At(0.75), At(0.9), At(0.99), sorted[^1]);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"min {Min}, 25% {P25:0.##}, 50% {P50:0.##}, 75% {P75:0.##}, 90% {P90:0.##}, 99% {P99:0.##}, max {Max}");
}

/// <summary>
/// What a dataset looks like, for logs and for checking a folder against its published description. Degrees count
/// training pairs only and range over every id 0..Users−1 and 0..Items−1, so ids without training rows count as 0.
/// </summary>
public sealed record DatasetStats(string Name, int Users, int Items, int Train, int Valid, int Test, double Density,
    DegreeQuantiles UserDegree, DegreeQuantiles ItemDegree, int ItemsWithoutTraining, int DroppedColdStartRows)
{
    public static DatasetStats Compute(Dataset d)
    {
        ArgumentNullException.ThrowIfNull(d);
        var userDegree = new int[d.Users];
        var itemDegree = new int[d.Items];
        for (int k = 0; k < d.Train.Count; k++)
        {
            userDegree[d.Train.Users[k]]++;
            itemDegree[d.Train.Items[k]]++;
        }
        long cells = (long)d.Users * d.Items;
        int total = d.Train.Count + d.Valid.Count + d.Test.Count;
        return new DatasetStats(d.Name, d.Users, d.Items, d.Train.Count, d.Valid.Count, d.Test.Count,
            cells == 0 ? 0 : total / (double)cells, DegreeQuantiles.Of(userDegree), DegreeQuantiles.Of(itemDegree),
            itemDegree.Count(n => n == 0), d.DroppedColdStartRows);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"""
        {Name}: {Users:N0} users, {Items:N0} items, density {Density:0.#####}
          pairs: train {Train:N0}, valid {Valid:N0}, test {Test:N0}; cold-start rows dropped {DroppedColdStartRows:N0}
          user degree (train): {UserDegree}
          item degree (train): {ItemDegree}; items with no training pair {ItemsWithoutTraining:N0}
        """);
}
