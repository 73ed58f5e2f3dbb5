using System.Runtime.InteropServices;
using Engine.Training;
using Engine.Training.Data;

// An MMRec dataset folder (<name>/<name>.inter), or the built-in synthetic dataset.
var data = args.Length > 0 ? Dataset.Load(args[0]) : SyntheticInteractions.BuiltIn();
Console.WriteLine($"data: {data.Name}, {data.Users} users, {data.Items} items");
using var recommender = Recommender.Create(new RunConfig { Model = "lightgcn", Epochs = 10, Seed = 1 }, data: data);

// Ctrl+C or a minute's time stops training after the current epoch; the result still names the best epoch so far.
using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
using var ctrlC = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => { signal.Cancel = true; cancel.Cancel(); });
var result = recommender.Train(cancel: cancel.Token, restoreBest: true, onEpoch: e =>
    Console.WriteLine($"epoch {e.Epoch,2}  loss {e.MeanLoss:F4}  valid recall@20 {e.Valid["recall@20"]:F4}{(e.Improved ? "  *" : "")}"));

var (valid, test) = recommender.Evaluate();   // restoreBest: the weights of the best-valid epoch
Console.WriteLine($"best epoch {result.BestEpoch} of {result.EpochsRun}: valid recall@20 {valid["recall@20"]:F4}, test recall@20 {test["recall@20"]:F4}, ndcg@20 {test["ndcg@20"]:F4}");
var top = recommender.Recommend(user: 0, k: 10);
Console.WriteLine($"user 0: {string.Join(" ", top.Select(r => r.Item))}");

var checkpoint = Path.Combine(Path.GetTempPath(), $"lightgcn-{Guid.NewGuid():N}.ckpt");
recommender.Save(checkpoint);
using var loaded = Recommender.Load(checkpoint, data: data);
File.Delete(checkpoint);
Console.WriteLine($"loaded model recommends the same: {loaded.Recommend(user: 0, k: 10).SequenceEqual(top)}");
