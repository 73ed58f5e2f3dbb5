using System.Text.Json;

namespace Engine.Training.Checkpoints;

/// <summary>
/// A copy of a component's state kept on its own device, for going back to it later (the best-valid epoch's weights)
/// without a file. Taking and restoring are the same walk as a checkpoint's.
/// </summary>
public sealed class StateSnapshot : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors = [];
    private readonly Dictionary<string, JsonElement> values = [];

    public bool IsEmpty => tensors.Count == 0 && values.Count == 0;

    /// <summary>Copies what <paramref name="walk"/> shows, replacing an earlier copy.</summary>
    public void Take(Action<IStateVisitor> walk)
    {
        Dispose();
        walk(new Taker(this));
    }

    /// <summary>Writes the copy back into what <paramref name="walk"/> shows (the same walk it was taken with).</summary>
    public void Restore(Action<IStateVisitor> walk)
    {
        if (IsEmpty) throw new InvalidOperationException("no state has been taken yet");
        walk(new Restorer(this));
    }

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
        values.Clear();
    }

    private sealed class Taker(StateSnapshot s) : IStateVisitor
    {
        public void Tensor(string name, Tensor tensor) => s.tensors.Add(name, tensor.Clone());

        public T Value<T>(string name, T value)
        {
            s.values.Add(name, JsonSerializer.SerializeToElement(value, TrainingJson.Compact));
            return value;
        }
    }

    private sealed class Restorer(StateSnapshot s) : IStateVisitor
    {
        public void Tensor(string name, Tensor tensor) => tensor.Backend.Copy(s.tensors[name], tensor);

        public T Value<T>(string name, T value) => s.values[name].Deserialize<T>(TrainingJson.Compact)!;
    }
}
