namespace Engine.Training.Evaluation;

/// <summary>
/// Recall, NDCG, precision and MAP at several cut-offs, averaged over users, exactly as MMRec defines them
/// (shared/spec/EVAL.md). Per user u with held-out items T_u and a hit at rank r when the r-th item is in T_u:
/// Recall@K = hits@K / |T_u| (not capped at K); NDCG@K = DCG / IDCG with DCG = Σ_{hit r ≤ K} 1/log2(r+1) and
/// IDCG = Σ_{r=1}^{min(|T_u|, K)} 1/log2(r+1); Precision@K = hits@K / K;
/// MAP@K = Σ_{hit r ≤ K} (hits@r / r) / min(|T_u|, K).
/// </summary>
/// <remarks>
/// Every user's values are kept and summed in the order the users were added, so the means do not depend on how users
/// were batched: blocks evaluated in parallel, each into its own accumulator, and then <see cref="Append"/>ed in block
/// order give the same bits as one accumulator fed every user in turn.
/// </remarks>
public sealed class RankingMetrics
{
    private static readonly string[] MetricNames = ["recall", "ndcg", "precision", "map"];

    private readonly int[] _ks;
    private readonly int _maxK;
    private readonly double[] _idealDcg; // _idealDcg[n] = Σ_{r=1}^{n} 1/log2(r+1), for n ≤ max K
    private readonly List<double> _values = []; // one row per user: for each K (ascending), the four metrics in MetricNames' order

    /// <param name="ks">The cut-offs, e.g. [5, 10, 20, 50]: positive and distinct, in any order.</param>
    public RankingMetrics(IReadOnlyList<int> ks)
    {
        ArgumentNullException.ThrowIfNull(ks);
        if (ks.Count == 0) throw new ArgumentException("at least one cut-off K is needed", nameof(ks));
        if (ks.Any(k => k < 1)) throw new ArgumentException($"cut-offs must be positive: {string.Join(", ", ks)}", nameof(ks));
        if (ks.Distinct().Count() != ks.Count) throw new ArgumentException($"cut-offs must be distinct: {string.Join(", ", ks)}", nameof(ks));

        _ks = ks.Order().ToArray();
        _maxK = _ks[^1];
        _idealDcg = new double[_maxK + 1];
        for (int r = 1; r <= _maxK; r++) _idealDcg[r] = _idealDcg[r - 1] + Discount(r);
    }

    /// <summary>The cut-offs, ascending.</summary>
    public IReadOnlyList<int> Ks => _ks;

    /// <summary>The number of users added so far.</summary>
    public int Users => _values.Count / Width;

    private int Width => MetricNames.Length * _ks.Length;

    /// <summary>
    /// Adds one user: <paramref name="rankedTopItems"/> holds the user's top items, best first, at least max K of them
    /// (−1 where there is no item; later entries are ignored); <paramref name="truth"/> is the user's held-out items,
    /// which must not be empty (such users are not evaluated).
    /// </summary>
    public void Add(ReadOnlySpan<int> rankedTopItems, IReadOnlySet<int> truth)
    {
        ArgumentNullException.ThrowIfNull(truth);
        var ranked = Validate(rankedTopItems, truth.Count, nameof(truth));
        Span<bool> hit = _maxK <= 1024 ? stackalloc bool[_maxK] : new bool[_maxK];
        for (int r = 0; r < _maxK; r++) hit[r] = ranked[r] >= 0 && truth.Contains(ranked[r]);
        AddUser(hit, truth.Count);
    }

    /// <inheritdoc cref="Add(ReadOnlySpan{int}, IReadOnlySet{int})"/>
    /// <param name="sortedTruth">The held-out items, strictly ascending.</param>
    public void Add(ReadOnlySpan<int> rankedTopItems, ReadOnlySpan<int> sortedTruth)
    {
        var ranked = Validate(rankedTopItems, sortedTruth.Length, nameof(sortedTruth));
        for (int i = 1; i < sortedTruth.Length; i++)
            if (sortedTruth[i] <= sortedTruth[i - 1])
                throw new ArgumentException($"held-out items must be strictly ascending; found {sortedTruth[i]} after {sortedTruth[i - 1]}", nameof(sortedTruth));
        Span<bool> hit = _maxK <= 1024 ? stackalloc bool[_maxK] : new bool[_maxK];
        for (int r = 0; r < _maxK; r++) hit[r] = ranked[r] >= 0 && sortedTruth.BinarySearch(ranked[r]) >= 0;
        AddUser(hit, sortedTruth.Length);
    }

    /// <summary>Adds <paramref name="later"/>'s users after this one's, as if they had been added here in turn.</summary>
    public void Append(RankingMetrics later)
    {
        ArgumentNullException.ThrowIfNull(later);
        if (!later._ks.AsSpan().SequenceEqual(_ks))
            throw new ArgumentException($"cut-offs differ: [{string.Join(", ", _ks)}] and [{string.Join(", ", later._ks)}]", nameof(later));
        _values.AddRange(later._values);
    }

    /// <summary>
    /// The mean of every metric over the users added, keyed "recall@K", "ndcg@K", "precision@K" and "map@K".
    /// </summary>
    public IReadOnlyDictionary<string, double> Means()
    {
        int users = Users;
        if (users == 0) throw new InvalidOperationException("no users have been added, so there is no mean");
        var sums = new double[Width];
        for (int u = 0; u < users; u++)
            for (int c = 0; c < sums.Length; c++)
                sums[c] += _values[u * sums.Length + c];

        var means = new Dictionary<string, double>(sums.Length);
        for (int m = 0; m < MetricNames.Length; m++)
            for (int ki = 0; ki < _ks.Length; ki++)
                means[$"{MetricNames[m]}@{_ks[ki]}"] = sums[ki * MetricNames.Length + m] / users;
        return means;
    }

    /// <summary>The first max K ranked items, after checking them; a repeated item would be counted as a hit twice.</summary>
    private ReadOnlySpan<int> Validate(ReadOnlySpan<int> rankedTopItems, int truthCount, string truthName)
    {
        if (truthCount == 0)
            throw new ArgumentException("a user with no held-out items has no recall; leave such users out", truthName);
        if (rankedTopItems.Length < _maxK)
            throw new ArgumentException($"{rankedTopItems.Length} ranked items given, {_maxK} (the largest K) needed", nameof(rankedTopItems));

        var ranked = rankedTopItems[.._maxK];
        Span<int> sorted = _maxK <= 1024 ? stackalloc int[_maxK] : new int[_maxK];
        ranked.CopyTo(sorted);
        sorted.Sort();
        if (sorted[0] < -1)
            throw new ArgumentException($"ranked items must be item ids or −1 for none; found {sorted[0]}", nameof(rankedTopItems));
        for (int i = 1; i < sorted.Length; i++)
            if (sorted[i] >= 0 && sorted[i] == sorted[i - 1])
                throw new ArgumentException($"item {sorted[i]} is ranked twice", nameof(rankedTopItems));
        return ranked;
    }

    private void AddUser(ReadOnlySpan<bool> hit, int truthCount)
    {
        int hits = 0, ki = 0;
        double dcg = 0, precisionSum = 0;
        for (int r = 1; r <= _maxK; r++)
        {
            if (hit[r - 1])
            {
                hits++;
                dcg += Discount(r);
                precisionSum += (double)hits / r;
            }
            if (r != _ks[ki]) continue;

            int ideal = Math.Min(truthCount, r);
            _values.Add((double)hits / truthCount);
            _values.Add(dcg / _idealDcg[ideal]);
            _values.Add((double)hits / r);
            _values.Add(precisionSum / ideal);
            ki++;
        }
    }

    private static double Discount(int rank) => 1.0 / Math.Log2(rank + 1);
}
