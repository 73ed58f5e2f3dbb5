namespace Engine.Kernels;

/// <summary>
/// Keeps freed device blocks for reuse, keyed by their rounded size, so that after the first training step no
/// step allocates from the driver (a cuMemAlloc synchronises the device and costs far more than a kernel).
/// Sizes round up to a multiple of 512 bytes below 1 MiB and to a power-of-two quarter step above, which keeps the
/// number of distinct buckets small without wasting more than a quarter of a block.
/// With <paramref name="caching"/> off (SEA_CUDA_NO_CACHING=1) every tensor gets a block of exactly its size from the
/// driver and gives it back when freed, so that a memory checker (compute-sanitizer, the emulated device) sees each
/// tensor's own bounds rather than a rounded, reused block's.
/// </summary>
internal sealed class CachingAllocator(Func<long, ulong> allocate, Action<ulong> free, bool caching = true)
{
    private readonly Dictionary<long, Stack<ulong>> freeBlocks = [];
    private long cachedBytes;

    /// <summary>Bytes held in the cache, not in use.</summary>
    public long CachedBytes => cachedBytes;

    /// <summary>Blocks obtained from the driver so far (a training step that adds none after warm-up is allocation-free).</summary>
    public int DriverAllocations { get; private set; }

    public static long RoundUp(long bytes)
    {
        if (bytes <= 0) return 512;
        if (bytes < 1 << 20) return (bytes + 511) / 512 * 512;
        long power = 1L << (int)(63 - long.LeadingZeroCount(bytes - 1)); // the largest power of two below bytes
        long step = power / 4;
        return (bytes + step - 1) / step * step;
    }

    public (ulong Pointer, long Bytes) Rent(long bytes)
    {
        if (!caching)
        {
            DriverAllocations++;
            return (allocate(bytes), bytes);
        }
        long size = RoundUp(bytes);
        lock (freeBlocks)
        {
            if (freeBlocks.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                cachedBytes -= size;
                return (stack.Pop(), size);
            }
        }
        DriverAllocations++;
        return (allocate(size), size);
    }

    public void Return(ulong pointer, long size)
    {
        if (!caching)
        {
            free(pointer);
            return;
        }
        lock (freeBlocks)
        {
            if (!freeBlocks.TryGetValue(size, out var stack)) freeBlocks[size] = stack = new Stack<ulong>();
            stack.Push(pointer);
            cachedBytes += size;
        }
    }

    /// <summary>Gives every cached block back to the driver (after an out-of-memory error, or on disposal).</summary>
    public void Trim()
    {
        lock (freeBlocks)
        {
            foreach (var stack in freeBlocks.Values)
                while (stack.Count > 0) free(stack.Pop());
            freeBlocks.Clear();
            cachedBytes = 0;
        }
    }
}
