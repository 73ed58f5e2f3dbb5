using Engine.Training.Data;
using Engine.Training.Models;

namespace Engine.Training.Evaluation;

/// <summary>
/// Full-ranking evaluation (EVAL.md): every item scored for every user who has rows in the split, the user's
/// training items masked, the top K kept by partial selection, and Recall/NDCG/Precision/MAP averaged over users.
/// Valid and test are ranked from one set of scores: validation items are not masked when testing.
/// </summary>
/// <remarks>
/// Users are scored in blocks, and each block's scores stay on the backend: <see cref="Backend.TopKRows"/> selects
/// there and only k item ids per user come back to the host. The evaluated users never change, so their blocks (ids
/// and training-item masks) go to the backend once, at the first evaluation, and stay there until
/// <see cref="Dispose"/>.
/// </remarks>
public sealed class Evaluator : IDisposable
{
    private const int UsersPerBlock = 2048;

    private readonly int[][] trainItems;
    private readonly int[][] validItems;
    private readonly int[][] testItems;
    private readonly int[] evaluatedUsers;
    private UserBlock[]? evaluatedBlocks; // evaluatedUsers' blocks, on the backend they were last used with
    private bool disposed;

    public Evaluator(Dataset data, IReadOnlyList<int> ks)
    {
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
        ObjectDisposedException.ThrowIf(disposed, this);
        var (users, items) = model.RankingEmbeddings();
        try
        {
            if (evaluatedBlocks is null || (evaluatedBlocks.Length > 0 && !ReferenceEquals(evaluatedBlocks[0].Users.Backend, users.Backend)))
            {
                FreeEvaluatedBlocks();
                evaluatedBlocks = Blocks(users.Backend, evaluatedUsers, excludeTraining: true);
            }
            var top = Rank(users, items, evaluatedBlocks, Ks.Max(), withScores: false).Items;
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

    /// <summary>
    /// As <see cref="TopItems"/>, with each chosen item's score (NaN where no item remains). The scores are computed
    /// again on the backend for the chosen pairs only, as a dot product in the backend's fixed summation order rather
    /// than the product's, so they agree with the scores that ranked the items to rounding, not always to the bit.
    /// </summary>
    public (int[][] Items, float[][] Scores) TopItemsWithScores(Tensor users, Tensor items, int[] forUsers, int k, bool excludeTraining)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var blocks = Blocks(users.Backend, forUsers, excludeTraining);
        try
        {
            var (top, scores) = Rank(users, items, blocks, k, withScores: true);
            return (top, scores!);
        }
        finally
        {
            foreach (var block in blocks) block.Dispose();
        }
    }

    /// <summary>Frees the evaluated users' blocks on the backend.</summary>
    public void Dispose()
    {
        disposed = true;
        FreeEvaluatedBlocks();
    }

    private void FreeEvaluatedBlocks()
    {
        foreach (var block in evaluatedBlocks ?? []) block.Dispose();
        evaluatedBlocks = null;
    }

    /// <summary>One block of users on the backend: their ids, and their training items as a CSR mask (null: none masked).</summary>
    private sealed record UserBlock(Tensor Users, Tensor? MaskRowPtr, Tensor? MaskCols) : IDisposable
    {
        public void Dispose()
        {
            Users.Dispose();
            MaskRowPtr?.Dispose();
            MaskCols?.Dispose();
        }
    }

    private UserBlock[] Blocks(Backend backend, int[] forUsers, bool excludeTraining)
    {
        var blocks = new List<UserBlock>();
        try
        {
            for (int start = 0; start < forUsers.Length; start += UsersPerBlock)
            {
                var ids = forUsers.AsSpan(start, Math.Min(UsersPerBlock, forUsers.Length - start)).ToArray();
                var users = backend.FromArray(ids, ids.Length, 1);
                if (!excludeTraining)
                {
                    blocks.Add(new UserBlock(users, null, null));
                    continue;
                }
                var rowPtr = new int[ids.Length + 1];
                for (int r = 0; r < ids.Length; r++) rowPtr[r + 1] = rowPtr[r] + trainItems[ids[r]].Length;
                var cols = ids.SelectMany(u => trainItems[u]).ToArray();
                blocks.Add(new UserBlock(users, backend.FromArray(rowPtr, rowPtr.Length, 1), backend.FromArray(cols, cols.Length, 1)));
            }
            return [.. blocks];
        }
        catch
        {
            foreach (var block in blocks) block.Dispose();
            throw;
        }
    }

    /// <summary>Each block's scores on the backend, its top k selected there; only the k ids (and k scores) per user are read back.</summary>
    private static (int[][] Items, float[][]? Scores) Rank(Tensor users, Tensor items, UserBlock[] blocks, int k, bool withScores)
    {
        var backend = users.Backend;
        var result = new List<int[]>();
        var resultScores = withScores ? new List<float[]>() : null;
        foreach (var b in blocks)
        {
            int count = b.Users.Rows;
            using var block = backend.Allocate(count, users.Cols, users.DType);
            using var scores = backend.Allocate(count, items.Rows, users.DType);
            using var top = backend.Allocate(count, k, DType.Int32);
            backend.GatherRows(users, b.Users, block);
            backend.Gemm(false, true, 1, block, items, 0, scores);
            backend.TopKRows(scores, b.MaskRowPtr, b.MaskCols, k, top);
            var chosen = top.ToArray<int>();
            var chosenScores = withScores ? ScoresOf(block, items, chosen, k) : null;
            for (int r = 0; r < count; r++)
            {
                result.Add(chosen[(r * k)..((r + 1) * k)]);
                resultScores?.Add(chosenScores![(r * k)..((r + 1) * k)]);
            }
        }
        return ([.. result], resultScores?.ToArray());
    }

    /// <summary>
    /// ⟨block_r, items_i⟩ for each chosen item i of each row r (row-major, k per row), computed on the backend from the
    /// two gathered rows, so that only these scores cross to the host; NaN where nothing was chosen.
    /// </summary>
    private static float[] ScoresOf(Tensor block, Tensor items, int[] chosen, int k)
    {
        if (chosen.Length == 0) return [];
        var backend = block.Backend;
        var rowOf = new int[chosen.Length];
        var itemOf = new int[chosen.Length];
        for (int i = 0; i < chosen.Length; i++)
        {
            rowOf[i] = i / k;
            itemOf[i] = Math.Max(chosen[i], 0); // −1 (nothing) gathers item 0, whose score is then replaced by NaN
        }
        using var rowIndex = backend.FromArray(rowOf, rowOf.Length, 1);
        using var itemIndex = backend.FromArray(itemOf, itemOf.Length, 1);
        using var userRows = backend.Allocate(chosen.Length, block.Cols, block.DType);
        using var itemRows = backend.Allocate(chosen.Length, block.Cols, block.DType);
        using var products = backend.Allocate(chosen.Length, block.Cols, block.DType);
        using var dots = backend.Allocate(chosen.Length, 1, block.DType);
        backend.GatherRows(block, rowIndex, userRows);
        backend.GatherRows(items, itemIndex, itemRows);
        backend.Binary(BinaryOp.Mul, userRows, itemRows, products);
        backend.Reduce(ReduceOp.Sum, products, dots, 1);
        var scores = dots.ToArray<float>();
        for (int i = 0; i < chosen.Length; i++)
            if (chosen[i] < 0) scores[i] = float.NaN;
        return scores;
    }
}
