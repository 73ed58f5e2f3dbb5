using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Engine.Kernels;

/// <summary>kernels.cu, embedded in this assembly, and the hash that keys its compiled forms in the disk cache.</summary>
internal static class KernelSource
{
    public static string Text { get; } = Read();

    public static string Hash { get; } = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Text)))[..16].ToLowerInvariant();

    private static string Read()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("kernels.cu")
            ?? throw new InvalidOperationException("kernels.cu is not embedded in Engine.Kernels: the build is broken");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The name of the kernel for an op, pass and dtype, as kernels.cu's extern "C" wrappers spell it.</summary>
    public static string Name(string op, DType dtype) => $"{op}_{(dtype == DType.Float32 ? "f32" : "f64")}";
}
