using System.Text;

namespace Engine.Kernels.Tests;

/// <summary>How kernels.cu is compiled: the choice of target (a pure function of architecture and NVRTC version), and
/// NVRTC itself compiling it with exactly those options, with no driver and no GPU.</summary>
public class KernelCompilerTests
{
    [Theory]
    [InlineData("sm_90", 11, 8, "compute_90", false)]
    [InlineData("sm_80", 11, 8, "compute_80", false)]
    [InlineData("compute_90", 11, 8, "compute_90", false)]
    [InlineData("sm_90", 12, 6, "sm_90", true)]
    [InlineData("sm_100", 13, 0, "sm_100", true)]
    [InlineData("compute_90", 13, 0, "compute_90", false)]
    public void The_target_depends_on_the_architecture_and_the_NVRTC_version(string requested, int major, int minor, string compiled, bool cubin)
    {
        var target = KernelCompiler.Target(requested, (major, minor));
        Assert.Equal(compiled, target.Architecture);
        Assert.Equal(cubin, target.Cubin);
        string[] lineInfo = major >= 12 ? ["-lineinfo"] : [];
        Assert.Equal([$"--gpu-architecture={compiled}", "--std=c++17", .. lineInfo, "--fmad=true"], target.Options);
    }

    [Fact]
    public void Before_NVRTC_12_it_is_always_PTX_without_line_info()
    {
        foreach (var minor in new[] { 0, 2, 8 })
            foreach (var arch in new[] { "sm_70", "sm_80", "sm_86", "sm_89", "sm_90", "compute_90" })
            {
                var target = KernelCompiler.Target(arch, (11, minor));
                Assert.False(target.Cubin);
                Assert.DoesNotContain(target.Options, o => o.Contains("sm_", StringComparison.Ordinal) || o == "-lineinfo");
            }
    }

    [Fact]
    public void A_GPU_is_compiled_for_from_its_compute_capability()
    {
        Assert.Equal("compute_90", KernelCompiler.Target((9, 0), (11, 8)).Architecture);
        Assert.Equal("sm_89", KernelCompiler.Target((8, 9), (12, 4)).Architecture);
    }

    [Theory]
    [InlineData("sm90")]
    [InlineData("sm_9")]
    [InlineData("compute_90a")]
    [InlineData("gfx90a")]
    [InlineData("")]
    public void Anything_but_sm_XX_or_compute_XX_is_refused(string architecture)
    {
        Assert.False(KernelCompiler.IsArchitecture(architecture));
        var e = Assert.Throws<ArgumentException>(() => KernelCompiler.Target(architecture, (12, 6)));
        Assert.Contains($"'{architecture}'", e.Message);
    }

    [Theory]
    [InlineData("compute_90")]
    [InlineData("sm_90")]
    [InlineData("sm_80")]
    public void Kernels_cu_compiles_with_the_runtime_options_and_an_empty_log(string architecture)
    {
        var target = KernelCompiler.Target(architecture, CudaToolchain.RequireNvrtc());
        var compiled = KernelCompiler.Compile(target);
        Assert.True(compiled.Log.Length == 0, $"NVRTC's log for {target.Architecture} is not empty:\n{compiled.Log}");
        if (!target.Cubin)
        {
            // PTX goes to cuModuleLoadData as NVRTC gives it: text with its terminating NUL.
            Assert.Equal(0, compiled.Image[^1]);
            string ptx = Encoding.UTF8.GetString(compiled.Image);
            // PTX names its virtual architecture sm_XX too.
            Assert.Contains($".target sm_{target.Architecture.Split('_')[1]}\n", ptx);
            foreach (var kernel in KernelSourceTests.Launched.Select(row => row.Data.Item1))
                foreach (var dtype in new[] { "f32", "f64" })
                    Assert.Contains($".entry {kernel}_{dtype}(", ptx);
        }
        Assert.True(compiled.EntryPoints >= 2 * KernelSourceTests.Launched.Count(), $"{compiled.EntryPoints} entry points");
    }

    private const string TwoKernels = """
        __device__ __noinline__ float twice(float x) { return 2 * x; }
        extern "C" __global__ void first(float* y) { y[threadIdx.x] = twice(y[threadIdx.x]); }
        extern "C" __global__ void second(float* y) { y[threadIdx.x] = 1; }
        """;

    [Fact]
    public void Entry_points_are_counted_in_PTX_and_in_a_CUBIN_but_not_device_functions()
    {
        CudaToolchain.RequireNvrtc();
        var ptx = KernelCompiler.Compile(new KernelTarget("compute_80", false, ["--gpu-architecture=compute_80"]), TwoKernels, "two.cu");
        Assert.Equal(2, ptx.EntryPoints);
        var cubin = KernelCompiler.Compile(new KernelTarget("sm_80", true, ["--gpu-architecture=sm_80"]), TwoKernels, "two.cu");
        Assert.Equal("\u007fELF", Encoding.ASCII.GetString(cubin.Image, 0, 4));
        Assert.Equal(2, cubin.EntryPoints);
    }

    [Fact]
    public void A_CUBIN_that_is_not_ELF_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => KernelCompiler.CubinEntryPoints(Encoding.ASCII.GetBytes("// PTX, not a CUBIN\0")));
    }

    [Fact]
    public void A_syntax_error_throws_with_NVRTC_s_log()
    {
        var target = KernelCompiler.Target("compute_90", CudaToolchain.RequireNvrtc());
        var e = Assert.Throws<KernelCompileException>(() => KernelCompiler.Compile(target, "extern \"C\" __global__ void broken( {}", "broken.cu"));
        Assert.Contains("broken.cu(1): error", e.Log);
        Assert.Contains(e.Log, e.Message);
        Assert.Contains("NVRTC_ERROR_COMPILATION", e.Message);
    }

    [Fact]
    public void A_warning_is_kept_in_the_log_of_a_successful_compilation()
    {
        var target = KernelCompiler.Target("compute_90", CudaToolchain.RequireNvrtc());
        var compiled = KernelCompiler.Compile(target, "__device__ int unused_at_all;\nextern \"C\" __global__ void k() { int never_read = 1; }", "warns.cu");
        Assert.Contains("warns.cu(2): warning", compiled.Log);
        Assert.Equal(1, compiled.EntryPoints);
    }
}
