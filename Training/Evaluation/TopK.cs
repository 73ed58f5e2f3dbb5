using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Training.Evaluation;

/// <summary>
/// The k best-scored items of a row, by partial selection. One order everywhere: higher score first, equal scores by
/// lower index, NaN below every number (−∞ included), excluded indices never. The order is total, so the result is the
/// same on every run, thread count and machine.
/// </summary>
/// <remarks>
/// A heap of the k best so far, kept in <c>result</c> itself with its worst entry at the root. Items are visited in
/// index order, so an item that merely ties the root comes later and loses the tie: only a strictly higher score gets
/// in. After the first few hundred items almost nothing does, and the scan is a vector compare per 8 (or 4) scores,
/// which is what makes ranking every item for every user cheap. Worst case O(n log k).
/// </remarks>
public static class TopK
{
    /// <summary>
    /// Writes the indices of the <paramref name="k"/> highest <paramref name="scores"/> into result[0..k), best first,
    /// skipping the indices in <paramref name="excluded"/> (ascending, in range; repeats are harmless). Where fewer than
    /// k indices remain the rest is −1.
    /// </summary>
    public static void Select(ReadOnlySpan<float> scores, ReadOnlySpan<int> excluded, int k, Span<int> result) =>
        SelectCore(scores, excluded, k, result);

    /// <inheritdoc cref="Select(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{int})"/>
    public static void Select(ReadOnlySpan<double> scores, ReadOnlySpan<int> excluded, int k, Span<int> result) =>
        SelectCore(scores, excluded, k, result);

    /// <summary>
    /// <see cref="Select(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{int})"/> for every row of a row-major
    /// rows × cols block (a reused buffer may be longer), rows in parallel. <paramref name="excludedOfRow"/> gives row r's
    /// excluded indices (null: none) and is called from several threads at once.
    /// </summary>
    public static int[,] SelectRows(float[] scores, int rows, int cols, Func<int, ReadOnlySpan<int>>? excludedOfRow, int k) =>
        SelectRowsCore(scores, rows, cols, excludedOfRow, k);

    /// <inheritdoc cref="SelectRows(float[], int, int, Func{int, ReadOnlySpan{int}}?, int)"/>
    public static int[,] SelectRows(double[] scores, int rows, int cols, Func<int, ReadOnlySpan<int>>? excludedOfRow, int k) =>
        SelectRowsCore(scores, rows, cols, excludedOfRow, k);

    private static int[,] SelectRowsCore<T>(T[] scores, int rows, int cols, Func<int, ReadOnlySpan<int>>? excludedOfRow, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if ((long)rows * cols > scores.Length)
            throw new ArgumentException($"{rows}×{cols} scores expected, the array holds {scores.Length}", nameof(scores));

        var result = new int[rows, k];
        if (k == 0) return result;
        Parallel.For(0, rows, r =>
        {
            var excluded = excludedOfRow is null ? default : excludedOfRow(r);
            SelectCore<T>(scores.AsSpan(r * cols, cols), excluded, k, MemoryMarshal.CreateSpan(ref result[r, 0], k));
        });
        return result;
    }

    private static void SelectCore<T>(ReadOnlySpan<T> scores, ReadOnlySpan<int> excluded, int k, Span<int> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (result.Length < k)
            throw new ArgumentException($"result holds {result.Length} entries, k is {k}", nameof(result));
        if (k == 0) return;

        // A few times k between compactions keeps them rare (a handful per row) and each one cheap.
        int capacity = (int)Math.Min(4L * k + 64, scores.Length + 1L);
        int[]? rentedItems = null;
        T[]? rentedScores = null;
        Span<int> items = capacity <= StackLimit ? stackalloc int[capacity] : (rentedItems = ArrayPool<int>.Shared.Rent(capacity));
        Span<T> kept = capacity <= StackLimit ? stackalloc T[capacity] : (rentedScores = ArrayPool<T>.Shared.Rent(capacity));
        var best = new Candidates<T>(scores, items[..capacity], kept[..capacity], k);

        int start = 0, previous = -1;
        // The candidates are the runs of indices between excluded ones.
        foreach (int e in excluded)
        {
            if (e < previous || e < 0 || e >= scores.Length)
                throw new ArgumentException(
                    $"excluded indices must be ascending and within 0..{scores.Length - 1}; found {e} after {previous}", nameof(excluded));
            best.Offer(start, e);
            start = e + 1;
            previous = e;
        }
        best.Offer(start, scores.Length);
        best.WriteSorted(result[..k]);

        if (rentedItems is not null) ArrayPool<int>.Shared.Return(rentedItems);
        if (rentedScores is not null) ArrayPool<T>.Shared.Return(rentedScores);
    }

    private const int StackLimit = 1024;

    /// <summary>
    /// The best items seen so far, unordered, in a buffer of a few times k. When the buffer fills, quickselect moves
    /// the k best to its front and the k-th best becomes the bar that later items must clear. Items arrive in index
    /// order, so an item that only ties the bar comes after it and loses: a strictly higher score is the whole test,
    /// and NaN never passes. A row needs a handful of compactions; between them the scan is one vector compare per 8
    /// (or 4) scores. Cheaper than a heap, whose every admission costs a sift with unpredictable branches.
    /// </summary>
    private ref struct Candidates<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> _scores;
        private readonly Span<int> _items;
        private readonly Span<T> _kept; // _kept[j] = _scores[_items[j]], at hand for comparisons
        private readonly int _k;
        private int _count;
        private bool _barred; // false until the first compaction, while every item is taken
        private T _bar;       // NaN while the best k so far include a NaN (fewer than k numbers seen)

        public Candidates(ReadOnlySpan<T> scores, Span<int> items, Span<T> kept, int k)
        {
            _scores = scores;
            _items = items;
            _kept = kept;
            _k = k;
        }

        /// <summary>Offers the items start..end−1, in index order.</summary>
        public void Offer(int start, int end)
        {
            int i = start;
            for (; i < end && !_barred; i++) Add(i);
            // Any number beats a NaN bar, and a later NaN loses to it.
            for (; i < end && T.IsNaN(_bar); i++)
                if (!T.IsNaN(_scores[i])) Add(i);

            // From here the bar is a number for good: it only rises.
            if (Vector256.IsHardwareAccelerated)
            {
                ref T s0 = ref MemoryMarshal.GetReference(_scores);
                int width = Vector256<T>.Count;
                var bar = Vector256.Create(_bar);
                for (; i <= end - width; i += width)
                {
                    if (!Vector256.GreaterThanAny(Vector256.LoadUnsafe(ref s0, (nuint)i), bar)) continue;
                    for (int j = i; j < i + width; j++)
                        if (_scores[j] > _bar) Add(j);
                    bar = Vector256.Create(_bar);
                }
            }
            for (; i < end; i++)
                if (_scores[i] > _bar) Add(i);
        }

        /// <summary>The best k, best first, into result (length k), padded with −1.</summary>
        public void WriteSorted(Span<int> result)
        {
            if (_count > _k) KeepBest();
            int n = Math.Min(_count, _k);
            Sort(0, n - 1);
            _items[..n].CopyTo(result);
            result[n..].Fill(-1);
        }

        private void Add(int item)
        {
            _items[_count] = item;
            _kept[_count] = _scores[item];
            if (++_count < _items.Length) return;
            KeepBest();
            _count = _k;
            _bar = _kept[_k - 1];
            _barred = true;
        }

        /// <summary>Quickselect: the k best to the front, the k-th best of all at k − 1.</summary>
        private void KeepBest()
        {
            int lo = 0, hi = _count - 1, target = _k - 1;
            while (lo < hi)
            {
                int p = Partition(lo, hi);
                if (p == target) return;
                if (p < target) lo = p + 1;
                else hi = p - 1;
            }
        }

        private void Sort(int lo, int hi)
        {
            while (hi - lo > 16)
            {
                int p = Partition(lo, hi);
                // Recurse into the smaller side so the stack stays O(log n).
                if (p - lo < hi - p) { Sort(lo, p - 1); lo = p + 1; }
                else { Sort(p + 1, hi); hi = p - 1; }
            }
            for (int i = lo + 1; i <= hi; i++)
                for (int j = i; j > lo && Better(j, j - 1); j--) Swap(j, j - 1);
        }

        /// <summary>Splits lo..hi around the median of its ends and middle: better items before it, worse after.</summary>
        private int Partition(int lo, int hi)
        {
            int mid = lo + (hi - lo) / 2;
            if (Better(mid, lo)) Swap(mid, lo);
            if (Better(hi, lo)) Swap(hi, lo);
            if (Better(mid, hi)) Swap(mid, hi); // the median of the three now sits at hi
            int store = lo;
            for (int i = lo; i < hi; i++)
                if (Better(i, hi)) Swap(i, store++);
            Swap(store, hi);
            return store;
        }

        /// <summary>Whether the entry at a ranks above the one at b: a higher score, a number against NaN, or a tie at a lower index.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool Better(int a, int b)
        {
            T sa = _kept[a], sb = _kept[b];
            if (sa > sb) return true;
            if (sa < sb) return false;
            bool aNaN = T.IsNaN(sa), bNaN = T.IsNaN(sb);
            return aNaN != bNaN ? bNaN : _items[a] < _items[b];
        }

        private readonly void Swap(int a, int b)
        {
            (_items[a], _items[b]) = (_items[b], _items[a]);
            (_kept[a], _kept[b]) = (_kept[b], _kept[a]);
        }
    }
}
