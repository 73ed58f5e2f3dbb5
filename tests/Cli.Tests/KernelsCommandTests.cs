using Engine.Kernels.Native;

namespace Engine.Cli.Tests;

/// <summary><c>sea kernels</c>: kernels.cu compiled by the NVRTC installed here, as the runtime would, without a GPU.</summary>
public class KernelsCommandTests
{
    private static readonly CudaProbeResult NoGpu = new(false, "no NVIDIA driver (a stand-in)", 0, [], null, null, [], "");

    private static (int Exit, string Output, string Error) Kernels(string? arch, string? source = null, string? outFile = null)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = KernelsCommand.Run(arch, source, outFile, output, error, () => NoGpu);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Without_a_GPU_it_compiles_the_embedded_kernels_for_sm_90_says_so_and_writes_the_image()
    {
        var (major, minor) = CudaToolchain.RequireNvrtc();
        var path = Path.Combine(Path.GetTempPath(), $"sea-kernels-{Guid.NewGuid():N}.img");
        try
        {
            var (exit, output, error) = Kernels(null, outFile: path);
            Assert.True(exit == CliErrors.Ok, output + error);
            Assert.Contains($"nvrtc:         {major}.{minor} from ", output);
            Assert.Contains("architecture:  sm_90 (the default: no usable GPU: no NVIDIA driver (a stand-in))", output);
            Assert.Contains("log:           (empty)", output);
            var kernels = output.Split('\n').Single(l => l.StartsWith("kernels:", StringComparison.Ordinal));
            Assert.True(int.Parse(kernels.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) > 40, kernels);
            Assert.Equal("", error);
            var image = File.ReadAllBytes(path);
            Assert.Contains($"image:         {image.Length} bytes", output);
            Assert.True(image.Length > 100_000);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_options_printed_are_the_runtime_s_for_the_architecture()
    {
        var version = CudaToolchain.RequireNvrtc();
        var (exit, output, _) = Kernels("sm_80");
        Assert.Equal(CliErrors.Ok, exit);
        var target = Engine.Kernels.KernelCompiler.Target("sm_80", version);
        Assert.Contains($"options:       {string.Join(' ', target.Options)}\n", output);
        Assert.Contains($"compiled for:  {target.Architecture} {target.ImageKind}", output);
    }

    [Fact]
    public void A_planted_syntax_error_fails_prints_the_log_and_leaves_out_alone()
    {
        CudaToolchain.RequireNvrtc();
        var folder = Directory.CreateTempSubdirectory("sea-kernels-").FullName;
        try
        {
            var source = Path.Combine(folder, "kernels.cu");
            File.WriteAllText(source, "extern \"C\" __global__ void fill_f32(long long n, float v, float* y) { y[0] = v +; }\n");
            var image = Path.Combine(folder, "kernels.ptx");
            File.WriteAllText(image, "the previous image");
            var (exit, output, error) = Kernels("compute_90", source, image);
            Assert.Equal(CliErrors.Failed, exit);
            Assert.Contains("kernels.cu(1): error", output);
            Assert.StartsWith("sea: error: NVRTC could not compile kernels.cu for compute_90 (NVRTC_ERROR_COMPILATION)", error);
            Assert.Equal("the previous image", File.ReadAllText(image));
            Assert.Equal([source, image], Directory.GetFiles(folder).Order());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_warning_fails_it_too()
    {
        CudaToolchain.RequireNvrtc();
        var source = Path.Combine(Path.GetTempPath(), $"sea-warns-{Guid.NewGuid():N}.cu");
        try
        {
            File.WriteAllText(source, "extern \"C\" __global__ void k() { int never_read = 1; }\n");
            var (exit, output, error) = Kernels("compute_90", source);
            Assert.Equal(CliErrors.Failed, exit);
            Assert.Contains("warning", output);
            Assert.Contains("kernels:       1 entry points", output);
            Assert.Contains("NVRTC warned", error);
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Theory]
    [InlineData("sm90")]
    [InlineData("compute_9")]
    [InlineData("hopper")]
    public void A_bad_arch_is_refused_in_one_line(string arch)
    {
        var e = Assert.Throws<ArgumentException>(() => Kernels(arch));
        Assert.Equal($"--arch must be sm_XX or compute_XX (e.g. sm_90, compute_90), got '{arch}'", e.Message);
        Assert.Equal(CliErrors.BadInput, SeaCli.Run(["kernels", "--arch", arch]));
    }
}
