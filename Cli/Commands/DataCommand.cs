using System.CommandLine;
using Engine.Training.Data;

namespace Engine.Cli;

/// <summary><c>sea data stats DIR</c>: what a dataset folder holds.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("folder") { Description = "a MMRec dataset folder" };
        var stats = new Command("stats", "Users, items, split sizes, density and degree quantiles of a dataset.") { folder };
        stats.SetAction(parse =>
        {
            var d = Dataset.Load(parse.GetValue(folder)!, loadFeatures: true);
            var s = DatasetStats.Compute(d);
            Console.WriteLine($"dataset        {s.Name} ({d.Folder})");
            Console.WriteLine($"users          {s.Users}");
            Console.WriteLine($"items          {s.Items} ({s.ItemsWithoutTraining} without training interactions)");
            Console.WriteLine($"train/valid/test  {s.Train} / {s.Valid} / {s.Test} (dropped cold-start rows: {s.DroppedColdStartRows})");
            Console.WriteLine($"density        {s.Density:0.000000}");
            Console.WriteLine($"user degree    {s.UserDegree}");
            Console.WriteLine($"item degree    {s.ItemDegree}");
            Console.WriteLine($"features       image {Describe(d.Image)}, text {Describe(d.Text)}");
            return CliErrors.Ok;
        });
        return new Command("data", "Dataset tools.") { stats };
    }

    private static string Describe(FeatureMatrix? m) => m is null ? "none" : $"{m.Rows}×{m.Cols}";
}
