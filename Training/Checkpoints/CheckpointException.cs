namespace Engine.Training.Checkpoints;

/// <summary>A checkpoint that cannot be used: corrupted, not a checkpoint, or from another model, dataset or engine version.</summary>
public sealed class CheckpointException(string message) : Exception(message);
