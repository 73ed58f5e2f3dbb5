namespace Engine.Kernels;

/// <summary>
/// One kernel argument as the 8 bytes cuLaunchKernel reads through its pointer: the driver copies as many bytes as
/// the parameter's declared type has, from the start of the slot, so an int or a float sits in the low 4 bytes.
/// </summary>
internal readonly struct KernelArg
{
    private KernelArg(long bits) => Bits = bits;

    public long Bits { get; }

    public static implicit operator KernelArg(int value) => new(value);
    public static implicit operator KernelArg(long value) => new(value);
    public static implicit operator KernelArg(ulong pointer) => new((long)pointer);
    public static implicit operator KernelArg(float value) => new(BitConverter.SingleToInt32Bits(value) & 0xFFFFFFFFL);
    public static implicit operator KernelArg(double value) => new(BitConverter.DoubleToInt64Bits(value));
}
