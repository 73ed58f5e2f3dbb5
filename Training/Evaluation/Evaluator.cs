using Engine.Training.Data;
using Engine.Training.Models;

namespace Engine.Training.Evaluation;

/// <summary>
/// Full-ranking evaluation (EVAL.md): every item scored for every user who has rows in the split, the user's
/// training items masked, the top K kept by partial selection, and Recall/NDCG/Precision/MAP averaged over users.
/// Valid and test are ranked from one set of scores: validation items are not masked when testing.
/// </summary>
public sealed class Evaluator
{
    private const int UsersPerBlock = 2048;

    private readonly Dataset data;
    private readonly int[][] trainItems;
    private readonly int[][] validItems;
    private readonly int[][] testItems;
    private readonly int[] evaluatedUsers;

    public Evaluator(Dataset data, IReadOnlyList<int> ks)
    {
        this.data = data;
        Ks = ks;
        trainItems = data.Train.ItemsByUser(data.Users);
        validItems = data.Valid.ItemsByUser(data.Users);
        testItems = data.Test.ItemsByUser(data.Users);
        evaluatedUsers = Enumerable.Range(0, data.Users).Where(u => validItems[u].Length > 0 || testItems[u].Length > 0).ToArray();
    }

    public IReadOnlyList<int> Ks { get; }

    /// <summary>The metrics of the valid and the test split, from the model's current ranking embeddings.</summary>
    public (IReadOnlyDictionary<string, double> Valid, IReadOnlyDictionary<string, double> Test) Evaluate(RecommenderModel model)
    {
        var (users, items) = model.RankingEmbeddings();
        try
        {
            var top = TopItems(users, items, evaluatedUsers, Ks.Max(), excludeTraining: true);
            var valid = new RankingMetrics(Ks);
            var test = new RankingMetrics(Ks);
            for (int e = 0; e < evaluatedUsers.Length; e++)
            {
                int u = evaluatedUsers[e];
                if (validItems[u].Length > 0) valid.Add(top[e], validItems[u]);
                if (testItems[u].Length > 0) test.Add(top[e], testItems[u]);
            }
            return (valid.Means(), test.Means());
        }
        finally
        {
            users.Dispose();
            items.Dispose();
        }
    }

    /// <summary>
    /// The <paramref name="k"/> best items for each of <paramref name="forUsers"/>, best first (−1 where fewer remain),
    /// scored ⟨users_u, items_i⟩ in blocks of users so the full score matrix never exists at once.
    /// </summary>
    public int[][] TopItems(Tensor users, Tensor items, int[] forUsers, int k, bool excludeTraining) =>
        TopItemsWithScores(users, items, forUsers, k, excludeTraining).Items;

    /// <summary>As <see cref="TopItems"/>, with each chosen item's score (NaN where no item remains).</summary>
    public (int[][] Items, float[][] Scores) TopItemsWithScores(Tensor users, Tensor items, int[] forUsers, int k, bool excludeTraining)
    {
        var backend = users.Backend;
        var result = new int[forUsers.Length][];
        var resultScores = new float[forUsers.Length][];
        for (int start = 0; start < forUsers.Length; start += UsersPerBlock)
        {
            int count = Math.Min(UsersPerBlock, forUsers.Length - start);
            var blockUsers = forUsers.AsSpan(start, count).ToArray();
            using var index = backend.FromArray(blockUsers, count, 1);
            using var block = backend.Allocate(count, users.Cols, users.DType);
            using var scores = backend.Allocate(count, items.Rows, users.DType);
            backend.GatherRows(users, index, block);
            backend.Gemm(false, true, 1, block, items, 0, scores);
            var host = scores.ToArray<float>();
            var top = TopK.SelectRows(host, count, data.Items,
                excludeTraining ? r => trainItems[blockUsers[r]] : null, k);
            for (int r = 0; r < count; r++)
            {
                var row = new int[k];
                var rowScores = new float[k];
                for (int j = 0; j < k; j++)
                {
                    row[j] = top[r, j];
                    rowScores[j] = row[j] < 0 ? float.NaN : host[(long)r * data.Items + row[j]];
                }
                result[start + r] = row;
                resultScores[start + r] = rowScores;
            }
        }
        return (result, resultScores);
    }
}
