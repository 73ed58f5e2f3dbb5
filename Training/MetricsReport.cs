using System.Text.Json.Serialization;

namespace Engine.Training;

/// <summary>
/// metrics.json: a run's outcome and the whole configuration that produced it, and the model's caveat where it has
/// one (<see cref="Models.RecommenderModel.Note"/>: DRepMRec is a reconstruction).
/// </summary>
public sealed record MetricsReport(string Model, string Dataset, ulong Seed, int BestEpoch, int EpochsRun,
    IReadOnlyDictionary<string, double> Valid, IReadOnlyDictionary<string, double> Test, double TrainSecondsPerEpoch,
    double EvalSeconds, string Device, RunConfig Config, IReadOnlyList<EpochLine> History,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note = null);

/// <summary>One epoch in metrics.json's short history (epochs.jsonl has everything).</summary>
public sealed record EpochLine(int Epoch, double Loss, double TrainSeconds, double EvalSeconds, double ValidRecall20, double ValidNdcg20);
