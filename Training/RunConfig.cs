using Engine.Training.Data;
using Engine.Training.Graph;
using Engine.Training.Models;

namespace Engine.Training;

/// <summary>Everything that defines a training run; written back whole into metrics.json.</summary>
public sealed record RunConfig
{
    /// <summary>lightgcn or mostpop.</summary>
    public string Model { get; init; } = "lightgcn";

    /// <summary>A MMRec dataset folder, or null for the built-in synthetic dataset.</summary>
    public string? Data { get; init; }

    public int Layers { get; init; } = 2;
    public double Reg { get; init; } = 1e-4;
    public int Dimension { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public int Epochs { get; init; } = 1000;
    public int Patience { get; init; } = 20;
    public int Batch { get; init; } = 2048;
    public ulong Seed { get; init; } = 999;

    public static readonly string[] Models = ["lightgcn", "mostpop"];

    public TrainerOptions TrainerOptions => new()
    {
        MaxEpochs = Epochs,
        Patience = Patience,
        BatchSize = Batch,
        LearningRate = LearningRate,
        Seed = Seed,
    };

    /// <summary>The dataset the run trains on.</summary>
    public Dataset LoadData() => Data is null ? SyntheticInteractions.Generate() : Dataset.Load(Data, loadFeatures: false);

    /// <summary>
    /// The model, initialised from <see cref="Seed"/> (the sampler draws from its own stream, seeded from Seed + 1).
    /// The caller disposes it.
    /// </summary>
    public RecommenderModel BuildModel(Dataset data, Backend backend) => Model switch
    {
        "lightgcn" => new LightGcn(backend, data.Users, data.Items,
            InteractionGraph.NormalizedAdjacency(backend, data.Users, data.Items, data.Train.Users, data.Train.Items, DType.Float32),
            Layers, Reg, new Rng(Seed), Dimension),
        "mostpop" => new MostPop(backend, data.Users, data.Items, data.Train.Items),
        _ => throw new ArgumentException($"unknown model '{Model}': expected one of {string.Join(", ", Models)}"),
    };
}
