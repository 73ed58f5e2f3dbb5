using Engine.Kernels;
using Engine.Kernels.Native;

namespace Engine.Tests.Support;

/// <summary>
/// Tests that need NVRTC (but no GPU). Where it is not installed they skip, saying so, unless SEA_REQUIRE_CUDA=1 (set
/// by CI, which installs it): there a missing NVRTC fails them instead, so a broken install cannot pass as skips.
/// </summary>
internal static class CudaToolchain
{
    public const string RequireVariable = "SEA_REQUIRE_CUDA";

    /// <summary>NVRTC's version where it loads; otherwise skips, or fails when <see cref="RequireVariable"/> is 1.</summary>
    public static (int Major, int Minor) RequireNvrtc()
    {
        if (!CudaLibraries.TryLoad(CudaLibraries.NvrtcLibrary, out _))
        {
            string reason = $"NVRTC is not installed: {CudaLibraries.NotFoundPhrase(CudaLibraries.NvrtcLibrary)}";
            if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
                Assert.Fail($"{reason} ({RequireVariable}=1 requires it)");
            Assert.Skip(reason);
        }
        return KernelCompiler.NvrtcVersion();
    }
}
