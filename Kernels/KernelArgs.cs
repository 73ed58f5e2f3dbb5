namespace Engine.Kernels;

/// <summary>
/// One kernel argument: its bits and its size in bytes (4 for int and float, 8 for long, double and device pointers),
/// which must be the size of the kernel parameter it fills. <see cref="CudaDevice.Launch"/> packs the arguments as the
/// driver lays out a kernel's parameters, each at its own alignment.
/// </summary>
internal readonly struct KernelArg
{
    private KernelArg(long bits, int size) => (Bits, Size) = (bits, size);

    public long Bits { get; }

    public int Size { get; }

    public static implicit operator KernelArg(int value) => new(value, sizeof(int));
    public static implicit operator KernelArg(long value) => new(value, sizeof(long));
    public static implicit operator KernelArg(ulong pointer) => new((long)pointer, sizeof(ulong));
    public static implicit operator KernelArg(float value) => new(BitConverter.SingleToInt32Bits(value), sizeof(float));
    public static implicit operator KernelArg(double value) => new(BitConverter.DoubleToInt64Bits(value), sizeof(double));

    /// <summary>
    /// Packs <paramref name="args"/> into <paramref name="buffer"/> in the driver's parameter layout (each argument at an
    /// offset that is a multiple of its size, no padding after the last) and returns the bytes used.
    /// </summary>
    public static unsafe int Pack(ReadOnlySpan<KernelArg> args, Span<byte> buffer)
    {
        int offset = 0;
        foreach (var arg in args)
        {
            offset = (offset + arg.Size - 1) / arg.Size * arg.Size;
            long bits = arg.Bits;
            new ReadOnlySpan<byte>(&bits, arg.Size).CopyTo(buffer[offset..]); // little-endian: the low bytes first
            offset += arg.Size;
        }
        return offset;
    }
}
