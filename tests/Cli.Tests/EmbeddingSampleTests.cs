using System.Reflection;
using Engine.Training.Data;

namespace Engine.Cli.Tests;

/// <summary>The library sample (samples/Embedding) runs end to end on a tiny dataset, so the code README shows keeps working.</summary>
public class EmbeddingSampleTests
{
    [Fact]
    public void Sample_trains_evaluates_recommends_and_reloads_the_same_model()
    {
        var root = Path.Combine(Path.GetTempPath(), $"sea-sample-{Guid.NewGuid():N}");
        var folder = Path.Combine(root, "tiny");
        var original = Console.Out;
        try
        {
            WriteInterFile(folder, SyntheticInteractions.Generate(users: 200, items: 100, groups: 5, seed: 1));
            var output = new StringWriter();
            Console.SetOut(output);
            // The sample is a project reference (so it builds with the tests); its entry point runs in this process.
            Assembly.Load("Embedding").EntryPoint!.Invoke(null, [new[] { folder }]);
            Console.SetOut(original);

            var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.StartsWith("data: tiny, 200 users,", lines[0]);
            Assert.Equal(Enumerable.Range(1, 10).Select(e => $"epoch {e,2}"), lines.Where(l => l.StartsWith("epoch")).Select(l => l[..8]));
            Assert.Contains(lines, l => l.StartsWith("best epoch ") && l.Contains(" of 10: valid recall@20 0.") && l.Contains("ndcg@20 0."));
            var top = Assert.Single(lines, l => l.StartsWith("user 0: "));
            Assert.Equal(10, top["user 0: ".Length..].Split(' ').Length);
            Assert.Equal("loaded model recommends the same: True", lines[^1]);
        }
        finally
        {
            Console.SetOut(original);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>An MMRec folder <c>tiny/tiny.inter</c>: x_label 0 train, 1 valid, 2 test.</summary>
    private static void WriteInterFile(string folder, Dataset data)
    {
        Directory.CreateDirectory(folder);
        using var inter = new StreamWriter(Path.Combine(folder, "tiny.inter"));
        inter.Write("userID\titemID\tx_label\n");
        foreach (var (split, label) in new[] { (data.Train, 0), (data.Valid, 1), (data.Test, 2) })
            for (int k = 0; k < split.Count; k++)
                inter.Write($"{split.Users[k]}\t{split.Items[k]}\t{label}\n");
    }
}
