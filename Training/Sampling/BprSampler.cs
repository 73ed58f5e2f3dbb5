namespace Engine.Training.Sampling;

/// <summary>One batch of training triples: user, an item they interacted with, and one they did not.</summary>
public sealed record TrainingBatch(int[] Users, int[] PositiveItems, int[] NegativeItems)
{
    public int Count => Users.Length;
}

/// <summary>
/// MMRec's training sampler: every epoch the training pairs are shuffled and cut into batches; each positive gets one
/// negative drawn uniformly from the items seen in training, redrawn while it is in the user's training set.
/// Everything random comes from one seeded <see cref="Rng"/>, so a seed fixes every batch of every epoch.
/// </summary>
public sealed class BprSampler
{
    private readonly int[] pairUsers;
    private readonly int[] pairItems;
    private readonly HashSet<int>[] trainedItemsOf;
    private readonly int[] trainingItems;

    public BprSampler(int users, int[] pairUsers, int[] pairItems, int batchSize, Rng rng)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be positive");
        this.pairUsers = pairUsers;
        this.pairItems = pairItems;
        BatchSize = batchSize;
        Rng = rng;
        trainedItemsOf = new HashSet<int>[users];
        for (int u = 0; u < users; u++) trainedItemsOf[u] = [];
        for (int p = 0; p < pairUsers.Length; p++) trainedItemsOf[pairUsers[p]].Add(pairItems[p]);
        trainingItems = pairItems.Distinct().Order().ToArray();
    }

    public int BatchSize { get; }
    public Rng Rng { get; }
    public int Pairs => pairUsers.Length;
    public int BatchesPerEpoch => (Pairs + BatchSize - 1) / BatchSize;

    /// <summary>The batches of one epoch, in order (the shuffle happens when enumeration starts).</summary>
    public IEnumerable<TrainingBatch> Epoch()
    {
        var order = Rng.Permutation(Pairs);
        for (int start = 0; start < Pairs; start += BatchSize)
        {
            int count = Math.Min(BatchSize, Pairs - start);
            var users = new int[count];
            var positives = new int[count];
            var negatives = new int[count];
            for (int b = 0; b < count; b++)
            {
                int p = order[start + b];
                users[b] = pairUsers[p];
                positives[b] = pairItems[p];
                negatives[b] = DrawNegative(pairUsers[p]);
            }
            yield return new TrainingBatch(users, positives, negatives);
        }
    }

    private int DrawNegative(int user)
    {
        var trained = trainedItemsOf[user];
        if (trained.Count >= trainingItems.Length)
            throw new InvalidOperationException($"user {user} interacted with every training item: no negative exists");
        int item;
        do item = trainingItems[Rng.NextInt(trainingItems.Length)];
        while (trained.Contains(item));
        return item;
    }
}
