using System.Diagnostics;

namespace Engine;

/// <summary>The public ops of <see cref="Backend"/>, as <see cref="OpCounters"/> tallies them.</summary>
public enum OpKind
{
    Allocate, Upload, Download, Copy, Fill,
    Unary, UnaryBackward, Binary, BinaryBackward, AddScaled,
    Reduce, ReduceBackward, LogSumExpRows, LogSumExpRowsBackward,
    Gemm, Spmm,
    GatherRows, ScatterAddRows, CopyBlock,
    RowL2Normalize, RowL2NormalizeBackward, SoftmaxRows, SoftmaxRowsBackward, BatchNorm, BatchNormBackward,
    AdamStep, ClubFit,
    TopKRows,
    BprRows, BprRowsBackward,
    ClubBoundRows, ClubBoundRowsBackward,
    InfoNceForward, InfoNceBackward,
}

/// <summary>What one op kind added up to: calls, floating-point operations, bytes moved and wall time.</summary>
public readonly record struct OpTotals(long Calls, long Flops, long Bytes, double Seconds);

/// <summary>
/// Per-op-kind tallies of the work that passed through a <see cref="Backend"/>, for benchmarks. Off by default;
/// while off, an op pays one flag test and the few multiplications that state its work.
/// <para>
/// FLOPs are counted for <see cref="OpKind.Gemm"/> (2·m·n·k), <see cref="OpKind.ClubFit"/> (its small products) and
/// InfoNCE (2·n²·d forward, 2·n²·d per gradient backward). Every op counts the bytes it must at least move:
/// each tensor it is given read once and each output written once (an accumulated output read and written), in its
/// dtype's size; SpMM counts the CSR row pointers and column indices (int32), the values, the row of x gathered for
/// every non-zero, and y written (read as well when β ≠ 0). A kernel may move more (several passes) or less (an add's
/// backward need not read its inputs); the figure is the traffic of the op as specified.
/// </para>
/// <para>
/// Seconds are the wall time of the call into the backend. On the CPU that is the op's run time. A CUDA op only
/// queues a kernel and returns, so its seconds are launch overhead; the GPU's share per op must come from CUDA
/// events or Nsight Systems, not from these timers.
/// </para>
/// </summary>
public sealed class OpCounters
{
    private static readonly int Kinds = Enum.GetValues<OpKind>().Length;
    private readonly long[] calls = new long[Kinds];
    private readonly long[] flops = new long[Kinds];
    private readonly long[] bytes = new long[Kinds];
    private readonly long[] ticks = new long[Kinds];

    public bool Enabled { get; set; }

    /// <summary>Zeroes every tally (whether or not counting is on).</summary>
    public void Reset()
    {
        foreach (var a in new[] { calls, flops, bytes, ticks }) Array.Clear(a);
    }

    /// <summary>The tallies so far of every op kind that was called at least once.</summary>
    public IReadOnlyDictionary<OpKind, OpTotals> Snapshot()
    {
        var result = new SortedDictionary<OpKind, OpTotals>();
        for (int k = 0; k < Kinds; k++)
        {
            long n = Interlocked.Read(ref calls[k]);
            if (n > 0)
                result[(OpKind)k] = new OpTotals(n, Interlocked.Read(ref flops[k]), Interlocked.Read(ref bytes[k]),
                    Interlocked.Read(ref ticks[k]) / (double)Stopwatch.Frequency);
        }
        return result;
    }

    /// <summary>Counts one call now and, when the returned scope is disposed, its wall time. Disabled: does nothing.</summary>
    internal Scope Count(OpKind kind, long flopCount, long byteCount)
    {
        if (!Enabled) return default;
        int k = (int)kind;
        // Interlocked: the CPU backend may be driven from several threads (tests, parallel evaluation).
        Interlocked.Increment(ref calls[k]);
        Interlocked.Add(ref flops[k], flopCount);
        Interlocked.Add(ref bytes[k], byteCount);
        return new Scope(this, k, Stopwatch.GetTimestamp());
    }

    internal readonly struct Scope(OpCounters? owner, int kind, long start) : IDisposable
    {
        public void Dispose()
        {
            if (owner is not null) Interlocked.Add(ref owner.ticks[kind], Stopwatch.GetTimestamp() - start);
        }
    }
}
