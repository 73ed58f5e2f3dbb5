using Engine.Kernels.Native;

namespace Engine.Kernels.Tests;

/// <summary>
/// Tests that read or set the SEA_LIB* variables, or whose outcome depends on what the resolver has loaded, run one
/// at a time: environment variables belong to the whole process.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CudaEnvironment
{
    public const string Name = "CUDA environment";
}

internal static class Gpu
{
    /// <summary>The probe's result when a usable GPU is present; otherwise skips the test with the probe's reason.</summary>
    public static CudaProbeResult Require()
    {
        var probe = CudaProbe.Probe();
        if (!probe.Usable)
            Assert.Skip($"no CUDA device: {probe.Reason}");
        return probe;
    }

    /// <summary>Skips the test when the CUDA driver does load here: it is about machines without one.</summary>
    public static void RequireNoDriver()
    {
        if (CudaLibraries.TryLoad(CudaLibraries.DriverLibrary, out _))
            Assert.Skip($"an NVIDIA driver is present ({CudaLibraries.LoadedFrom(CudaLibraries.DriverLibrary)}); this test is about its absence");
    }

    /// <summary>The toolkit's per-architecture folder as the resolver names it, or null where it has none.</summary>
    public static string? TargetDirectory() => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "/usr/local/cuda/targets/x86_64-linux/lib",
        System.Runtime.InteropServices.Architecture.Arm64 => "/usr/local/cuda/targets/sbsa-linux/lib",
        _ => null,
    };
}
