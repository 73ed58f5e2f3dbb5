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

    [Fact]
    public void Selftest_on_cuda_when_a_gpu_is_present()
    {
        var probe = Engine.Kernels.Native.CudaProbe.Probe();
        if (!probe.Usable) Assert.Skip($"no usable GPU: {probe.Reason}");
        var output = new StringWriter();
        using var backend = new Engine.Kernels.CudaBackend(Engine.Kernels.CudaDevice.Open());
        Assert.Equal(CliErrors.Ok, SelfTestCommand.Run(backend, output));
    }
}
