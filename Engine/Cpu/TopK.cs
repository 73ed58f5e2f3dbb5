using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

// In namespace Engine rather than Engine.Cpu: host code (Training's item-kNN graph, the metrics tests) selects from
// host arrays with it as well, and this is the one implementation of the order, which the CPU backend's
// Backend.TopKRows runs and kernels.cu's topk_rows reproduces.
namespace Engine;

/// <summary>
/// The k best-scored items of a row, by partial selection. One order everywhere: higher score first, equal scores by
/// lower index, NaN below every number (−∞ included), excluded indices never. The order is total, so the result is the
/// same on every run, thread count and machine.
/// </summary>
/// <remarks>
/// A heap of the k best so far, in <c>result</c> itself (see <c>Heap</c>), fed by a vector scan that passes
/// over almost every item with one compare per 8 (or 4) scores, behind a floor found first (<c>Floor</c>).
/// Worst case O(n log k); a 19,445 × 7,050 block with k = 50 takes about 0.2 s of one core.
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

        var flat = new int[(long)rows * k];
        SelectRowsInto(scores, rows, cols, excludedOfRow, k, flat);
        var result = new int[rows, k];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(int)); // a 2-D array is one row-major block
        return result;
    }

    /// <summary>
    /// The rows' selections into <paramref name="result"/> (row-major rows × k), rows in parallel; arguments already
    /// checked. The CPU backend's TopKRows writes its int32 result tensor through this.
    /// </summary>
    internal static void SelectRowsInto<T>(T[] scores, int rows, int cols, Func<int, ReadOnlySpan<int>>? excludedOfRow, int k, int[] result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (k == 0) return;
        Parallel.For(0, rows, r =>
        {
            var excluded = excludedOfRow is null ? default : excludedOfRow(r);
            SelectCore<T>(scores.AsSpan(r * cols, cols), excluded, k, result.AsSpan(r * k, k));
        });
    }

    private static void SelectCore<T>(ReadOnlySpan<T> scores, ReadOnlySpan<int> excluded, int k, Span<int> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (result.Length < k)
            throw new ArgumentException($"result holds {result.Length} entries, k is {k}", nameof(result));
        if (k == 0) return;

        var heap = new Heap<T>(scores, result[..k], Floor(scores, excluded, k));
        int start = 0, previous = -1;
        // The candidates are the runs of indices between excluded ones.
        foreach (int e in excluded)
        {
            if (e < previous || e < 0 || e >= scores.Length)
                throw new ArgumentException(
                    $"excluded indices must be ascending and within 0..{scores.Length - 1}; found {e} after {previous}", nameof(excluded));
            heap.Offer(start, e);
            start = e + 1;
            previous = e;
        }
        heap.Offer(start, scores.Length);
        heap.SortBestFirst();
    }

    /// <summary>
    /// A score that at least k candidates reach, so that nothing below it can make the top k; −∞ when there is none
    /// worth having. It is the k-th largest of the maxima of 2k equal slices of the row (slices holding an excluded
    /// index left out): k distinct candidates reach it, and only about 1% of a row does. Without it, the heap's bar
    /// climbs from the first k items and lets in some k·ln(n/k) items on the way, each a sift through the heap.
    /// </summary>
    private static T Floor<T>(ReadOnlySpan<T> scores, ReadOnlySpan<int> excluded, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = Vector256<T>.Count, groups = 2 * k;
        if (!Vector256.IsHardwareAccelerated || k < 8 || k > 512 || scores.Length < 32L * groups) return T.NegativeInfinity;

        int size = scores.Length / groups / width * width, valid = 0, e = 0;
        Span<T> maxima = stackalloc T[groups];
        ref T s0 = ref MemoryMarshal.GetReference(scores);
        for (int g = 0; g < groups; g++)
        {
            int start = g * size, end = start + size;
            while (e < excluded.Length && excluded[e] < start) e++;
            if (e < excluded.Length && excluded[e] < end) continue;
            var m = Vector256.Create(T.NegativeInfinity);
            for (int i = start; i < end; i += width)
            {
                var v = Vector256.LoadUnsafe(ref s0, (nuint)i);
                m = Vector256.ConditionalSelect(Vector256.GreaterThan(v, m), v, m); // NaN never compares greater
            }
            T max = T.NegativeInfinity;
            for (int j = 0; j < width; j++) max = T.Max(max, m[j]);
            if (max > T.NegativeInfinity) maxima[valid++] = max;
        }
        return valid < k ? T.NegativeInfinity : KthLargest(maxima[..valid], k);
    }

    /// <summary>
    /// Wirth's selection (Hoare's partition around the value at the target, which copes with repeated values): a
    /// fraction of the cost of sorting, which would take half of all the time spent on a row.
    /// </summary>
    private static T KthLargest<T>(Span<T> values, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lo = 0, hi = values.Length - 1, target = k - 1;
        while (lo < hi)
        {
            T pivot = values[target];
            int i = lo, j = hi;
            do
            {
                while (values[i] > pivot) i++;
                while (pivot > values[j]) j--;
                if (i <= j) { (values[i], values[j]) = (values[j], values[i]); i++; j--; }
            } while (i <= j);
            if (j < target) lo = i;
            if (target < i) hi = j;
        }
        return values[target];
    }

    /// <summary>
    /// The best items seen so far, in result itself, with the worst of them at the root. Items are offered in index
    /// order, so an item that merely ties the root comes after it and loses: once the heap is full a strictly higher
    /// score than the root's is the whole test, NaN never passes it, and most of a row is passed over by one vector
    /// compare per 8 (or 4) scores.
    /// </summary>
    private ref struct Heap<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> _scores;
        private readonly Span<int> _heap;
        private readonly bool _open; // no floor: every candidate enters until the heap is full, NaN included
        private int _count;
        private T _bar;              // an item must score above it to enter; NaN while the root is NaN

        public Heap(ReadOnlySpan<T> scores, Span<int> heap, T floor)
        {
            _scores = scores;
            _heap = heap;
            _open = floor == T.NegativeInfinity;
            _bar = _open ? floor : T.BitDecrement(floor);
        }

        /// <summary>Offers the items start..end−1, in index order.</summary>
        public void Offer(int start, int end)
        {
            int i = start;
            if (_open)
            {
                for (; i < end && _count < _heap.Length; i++) Admit(i);
                // Any number beats a NaN root, and a later NaN loses to it.
                for (; i < end && T.IsNaN(_bar); i++)
                    if (!T.IsNaN(_scores[i])) Admit(i);
            }

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
                        if (_scores[j] > _bar) Admit(j);
                    bar = Vector256.Create(_bar);
                }
            }
            for (; i < end; i++)
                if (_scores[i] > _bar) Admit(i);
        }

        /// <summary>Heap sort: the worst remaining goes to the back each time, leaving the best at the front; −1 pads.</summary>
        public void SortBestFirst()
        {
            for (int end = _count - 1; end > 0; end--)
            {
                (_heap[0], _heap[end]) = (_heap[end], _heap[0]);
                SiftDown(end);
            }
            _heap[_count..].Fill(-1);
        }

        private void Admit(int item)
        {
            if (_count < _heap.Length)
            {
                _heap[_count] = item;
                SiftUp(_count++);
                if (_count < _heap.Length) return;
            }
            else
            {
                _heap[0] = item;
                SiftDown(_count);
            }
            _bar = _scores[_heap[0]];
        }

        private readonly void SiftUp(int i)
        {
            while (i > 0)
            {
                int parent = (i - 1) / 2;
                if (!Worse(_heap[i], _heap[parent])) return;
                (_heap[i], _heap[parent]) = (_heap[parent], _heap[i]);
                i = parent;
            }
        }

        /// <summary>Moves the root down the first <paramref name="count"/> entries to its place.</summary>
        private readonly void SiftDown(int count)
        {
            int i = 0;
            while (true)
            {
                int child = 2 * i + 1;
                if (child >= count) return;
                if (child + 1 < count && Worse(_heap[child + 1], _heap[child])) child++;
                if (!Worse(_heap[child], _heap[i])) return;
                (_heap[i], _heap[child]) = (_heap[child], _heap[i]);
                i = child;
            }
        }

        /// <summary>Whether item a ranks below item b: a lower score, NaN against a number, or a tie at a higher index.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly bool Worse(int a, int b)
        {
            T sa = _scores[a], sb = _scores[b];
            if (sa < sb) return true;
            if (sa > sb) return false;
            bool aNaN = T.IsNaN(sa), bNaN = T.IsNaN(sb);
            return aNaN != bNaN ? aNaN : a > b;
        }
    }
}
