using Engine.Kernels.Native;

namespace Engine.Kernels.Tests;

/// <summary>The probe: one sentence when there is no usable GPU, the devices and library versions when there is.</summary>
[Collection(CudaEnvironment.Name)]
public class ProbeTests
{
    [Fact]
    public void The_probe_never_throws_and_either_describes_devices_or_gives_one_sentence()
    {
        var probe = CudaProbe.Probe();
        Assert.False(string.IsNullOrWhiteSpace(probe.Trace));
        if (probe.Usable)
        {
            Assert.Null(probe.Reason);
            Assert.NotEmpty(probe.Devices);
            Assert.NotNull(probe.CublasVersion);
            Assert.NotNull(probe.NvrtcVersion);
            Assert.True(probe.DriverVersion > 0);
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(probe.Reason));
            Assert.DoesNotContain('\n', probe.Reason);
            Assert.StartsWith("no usable GPU: ", probe.Summary);
        }
    }

    [Fact]
    public void Without_a_driver_the_probe_names_libcuda_and_every_place_tried()
    {
        Gpu.RequireNoDriver();
        var probe = CudaProbe.Probe();
        Assert.False(probe.Usable);
        Assert.Empty(probe.Devices);
        Assert.Equal(0, probe.DriverVersion);
        Assert.StartsWith("no NVIDIA driver: libcuda.so.1 not found (tried libcuda.so.1: ", probe.Reason);
        Assert.Contains("/usr/local/cuda/lib64/libcuda.so.1: no such file", probe.Reason);
        if (Gpu.TargetDirectory() is { } target)
            Assert.Contains($"{target}/libcuda.so.1", probe.Reason);
        if (Environment.GetEnvironmentVariable("CUDA_HOME") is { Length: > 0 } home)
            Assert.Contains(Path.Combine(home, "lib64", "libcuda.so.1"), probe.Reason);
        // The trace covers every library, not only the one that stopped the probe.
        foreach (var logical in CudaLibraries.LogicalNames)
            Assert.Contains($"{logical}: ", probe.Trace);
    }

    [Fact]
    [Trait("Category", Category.Cuda)]
    public void The_summary_of_a_usable_probe_names_the_versions_and_each_device_gets_a_line()
    {
        var probe = Gpu.Require();
        var lines = probe.DescribeLines().ToList();
        Assert.Contains($"driver CUDA {probe.DriverVersionText}", lines[0]);
        Assert.Equal(probe.Devices.Count, lines.Count(l => l.StartsWith("device ", StringComparison.Ordinal)));
        foreach (var device in probe.Devices)
        {
            Assert.True(device.ComputeCapabilityMajor >= 3, device.ToString());
            Assert.Equal(32, device.WarpSize);
            Assert.True(device.TotalMemoryBytes > 0);
            Assert.True(device.MaxThreadsPerBlock >= 512);
        }
    }

    [Theory]
    [InlineData(12040, "12.4")]
    [InlineData(13000, "13.0")]
    [InlineData(11080, "11.8")]
    [InlineData(12090, "12.9")]
    public void CUDA_version_numbers_read_as_major_dot_minor(int version, string text) =>
        Assert.Equal(text, CudaProbeResult.FormatCudaVersion(version));

    [Fact]
    public void A_usable_result_summarises_versions_then_lists_devices_then_notes()
    {
        var device = new CudaDeviceInfo(0, "NVIDIA H100 80GB HBM3", 9, 0, 132, 1024, 32, 49152, 85_520_809_984);
        var probe = new CudaProbeResult(true, null, 12040, [device], "12.4.5", "12.6", ["a note"], "cuda: loaded libcuda.so.1");
        Assert.Equal(
        [
            "1 CUDA device, driver CUDA 12.4, cuBLAS 12.4.5, NVRTC 12.6",
            device.ToString(),
            "note: a note",
        ], probe.DescribeLines());
    }

    [Fact]
    public void A_device_describes_itself_on_one_line()
    {
        var device = new CudaDeviceInfo(0, "NVIDIA H100 80GB HBM3", 9, 0, 132, 1024, 32, 49152, 85_520_809_984);
        Assert.Equal("device 0: NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.6 GiB, 1024 threads/block, warp 32, 48 KiB shared/block",
            device.ToString());
    }
}
