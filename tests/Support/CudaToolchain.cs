using Engine.Kernels;
using Engine.Kernels.Native;

namespace Engine.Tests.Support;

/// <summary>
/// Tests that need NVRTC (but no GPU). Where it is not installed they skip, saying so, unless SEA_REQUIRE_CUDA=1 (set
/// by the test scripts; CI installs it): there a missing NVRTC fails them instead, so a broken install cannot pass as skips.
/// </summary>
internal static class CudaToolchain
{
    /// <summary>NVRTC's version where it loads; otherwise skips, or fails when <see cref="Gpu.Required"/>.</summary>
    public static (int Major, int Minor) RequireNvrtc()
    {
        if (!CudaLibraries.TryLoad(CudaLibraries.NvrtcLibrary, out _))
        {
            string reason = $"NVRTC is not installed: {CudaLibraries.NotFoundPhrase(CudaLibraries.NvrtcLibrary)}";
            if (Gpu.Required)
                Assert.Fail($"{reason} ({Gpu.RequireVariable}=1 requires it)");
            Assert.Skip(reason);
        }
        return KernelCompiler.NvrtcVersion();
    }
}
