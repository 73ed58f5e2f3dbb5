using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Engine;

/// <summary>Host-side element conversion shared by every backend's upload and download (float32 ↔ float64, or a plain copy).</summary>
public static class HostConversion
{
    public static void Convert<TSrc, TDst>(ReadOnlySpan<TSrc> src, Span<TDst> dst) where TSrc : unmanaged where TDst : unmanaged
    {
        if (typeof(TSrc) == typeof(TDst))
            MemoryMarshal.Cast<TSrc, TDst>(src).CopyTo(dst);
        else if (typeof(TSrc) == typeof(double) && typeof(TDst) == typeof(float))
            TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<TSrc, double>(src), MemoryMarshal.Cast<TDst, float>(dst));
        else if (typeof(TSrc) == typeof(float) && typeof(TDst) == typeof(double))
            TensorPrimitives.ConvertChecked(MemoryMarshal.Cast<TSrc, float>(src), MemoryMarshal.Cast<TDst, double>(dst));
        else
            throw new NotSupportedException($"cannot convert {typeof(TSrc).Name} to {typeof(TDst).Name}");
    }
}
