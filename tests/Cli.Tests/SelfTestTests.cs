using Engine.Cpu;

namespace Engine.Cli.Tests;

public class SelfTestTests
{
    /// <summary>The harness against a second CPU backend (managed GEMM instead of OpenBLAS): the two must agree.</summary>
    [Fact]
    public void Selftest_holds_a_backend_to_the_cpu_reference()
    {
        var output = new StringWriter();
        Assert.Equal(CliErrors.Ok, SelfTestCommand.Run(new CpuBackend(GemmProvider.Managed), output));
        Assert.Contains("0 failed (parity)", output.ToString());
    }

    /// <summary>`sea selftest --device cuda`: parity of every case with the CPU, then every gradient check on the device
    /// (what `sea gradcheck --device cuda` runs).</summary>
    [Fact]
    [Trait("Category", Category.Cuda)]
    public void Selftest_on_cuda_passes()
    {
        Gpu.Require();
        var output = new StringWriter();
        using var backend = new Engine.Kernels.CudaBackend(Engine.Kernels.CudaDevice.Open());
        int exit = SelfTestCommand.Run(backend, output);
        Assert.True(exit == CliErrors.Ok, output.ToString());
        Assert.Contains($" passed, 0 failed (parity); gradient checks passed", output.ToString());
    }
}
