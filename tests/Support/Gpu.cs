using Engine.Kernels.Native;

namespace Engine.Tests.Support;

// Linked into Kernels.Tests and Cli.Tests: both decide the same way whether a CUDA test runs, skips or fails.

/// <summary>The trait of every test that needs a CUDA device (a GPU or the emulated one): <c>--filter Category=Cuda</c>.</summary>
internal static class Category
{
    public const string Cuda = "Cuda";

    /// <summary>Tests of the emulated device itself (they build variants of it with g++): <c>--filter Category=Emulator</c>.</summary>
    public const string Emulator = "Emulator";
}

internal static class Gpu
{
    /// <summary>
    /// The probe's result when a usable CUDA device is present; otherwise skips the test with the probe's reason, or
    /// fails it where SEA_REQUIRE_CUDA=1 says a device must be there (scripts/emulated-cuda.sh, the GPU check).
    /// </summary>
    public static CudaProbeResult Require()
    {
        var probe = CudaProbe.Probe();
        if (!probe.Usable)
        {
            if (Required) Assert.Fail($"{RequireVariable}=1 but no CUDA device is usable: {probe.Reason}");
            Assert.Skip($"no CUDA device: {probe.Reason}");
        }
        return probe;
    }

    /// <summary>Whether the environment says the CUDA toolchain and a device must be found (SEA_REQUIRE_CUDA=1, set by
    /// the README's test command and scripts/emulated-cuda.sh): then a missing one fails a test instead of skipping it.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    public const string RequireVariable = "SEA_REQUIRE_CUDA";

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
