using Engine.Autograd;
using Engine.Training.Sampling;

namespace Engine.Training.Models;

/// <summary>Ranks items by their number of training interactions, the same list for everyone: the floor any model must beat.</summary>
public sealed class MostPop(Backend backend, int users, int items, ReadOnlySpan<int> trainItems) : RecommenderModel
{
    private readonly double[] popularity = Count(items, trainItems);

    public override string Name => "mostpop";

    protected override Var ComputeLoss(TrainingBatch batch) =>
        throw new InvalidOperationException("MostPop is counted, not trained: it has no loss");

    public override (Tensor Users, Tensor Items) RankingEmbeddings()
    {
        var ones = backend.Allocate(users, 1, DType.Float32);
        backend.Fill(ones, 1);
        return (ones, backend.FromDoubles(popularity, items, 1, DType.Float32));
    }

    private static double[] Count(int items, ReadOnlySpan<int> trainItems)
    {
        var counts = new double[items];
        foreach (var i in trainItems) counts[i]++;
        return counts;
    }
}
