namespace Engine.Kernels.Tests;

public class CachingAllocatorTests
{
    [Fact]
    public void Freed_blocks_are_reused_so_a_repeated_step_allocates_nothing_new()
    {
        ulong next = 0x1000;
        var freed = new List<ulong>();
        var allocator = new CachingAllocator(bytes => (next += (ulong)bytes), freed.Add);
        for (int step = 0; step < 3; step++)
        {
            var blocks = new[] { allocator.Rent(1000), allocator.Rent(4_000_000), allocator.Rent(1000) };
            foreach (var (pointer, size) in blocks) allocator.Return(pointer, size);
        }
        Assert.Equal(3, allocator.DriverAllocations); // the first step's three blocks, then only reuse
        allocator.Trim();
        Assert.Equal(3, freed.Count);
        Assert.Equal(0, allocator.CachedBytes);
    }

    [Theory]
    [InlineData(1, 512)]
    [InlineData(512, 512)]
    [InlineData(513, 1024)]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData((1 << 20) + 1, (1 << 20) + (1 << 18))] // quarter steps of the power of two below
    [InlineData(3_000_000, 3_145_728)]
    public void Sizes_round_up_to_few_buckets(long bytes, long expected)
    {
        Assert.Equal(expected, CachingAllocator.RoundUp(bytes));
        Assert.True(CachingAllocator.RoundUp(bytes) >= bytes);
    }
}
