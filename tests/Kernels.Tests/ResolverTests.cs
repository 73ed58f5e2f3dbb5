using Engine.Kernels.Native;

namespace Engine.Kernels.Tests;

/// <summary>The resolver: the order it tries things in, what it records, and what it throws when nothing loads.</summary>
[Collection(CudaEnvironment.Name)]
public class ResolverTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Candidates_come_in_order_override_then_sonames_then_toolkit_folders()
    {
        var candidates = CudaLibraries.Candidates(CudaLibraries.CublasLibrary,
            Environment(("SEA_LIBCUBLAS", "/opt/mine/libcublas.so.13"), ("CUDA_HOME", "/opt/cuda-13.0")));
        var expected = new List<string>
        {
            "SEA_LIBCUBLAS=/opt/mine/libcublas.so.13",
            "libcublas.so.13", "libcublas.so.12",
            "/opt/cuda-13.0/lib64/libcublas.so.13", "/opt/cuda-13.0/lib64/libcublas.so.12",
            "/usr/local/cuda/lib64/libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.12",
        };
        if (Gpu.TargetDirectory() is { } target)
            expected.AddRange([$"{target}/libcublas.so.13", $"{target}/libcublas.so.12"]);
        Assert.Equal(expected, candidates.Select(c => c.Label));
        Assert.Equal("/opt/mine/libcublas.so.13", candidates[0].Path);
    }

    [Theory]
    [InlineData("cuda", "libcuda.so.1")]
    [InlineData("cublas", "libcublas.so.13,libcublas.so.12")]
    [InlineData("nvrtc", "libnvrtc.so.13,libnvrtc.so.12,libnvrtc.so.11.2")]
    public void Each_library_is_looked_for_under_its_versioned_sonames(string logical, string sonames)
    {
        Assert.Equal(sonames.Split(','), CudaLibraries.Sonames(logical));
        var candidates = CudaLibraries.Candidates(logical, _ => null);
        Assert.Equal(sonames.Split(',').First(), candidates[0].Label);
        Assert.All(candidates, c => Assert.Contains(c.Path.Split('/')[^1], CudaLibraries.Sonames(logical)));
    }

    [Fact]
    public void No_candidate_is_a_Windows_name_or_an_unversioned_development_link()
    {
        foreach (var logical in CudaLibraries.LogicalNames)
            foreach (var (label, path) in CudaLibraries.Candidates(logical, Environment(("CUDA_HOME", "/opt/cuda"))))
            {
                Assert.DoesNotContain(".dll", path, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("nvcuda", path, StringComparison.OrdinalIgnoreCase);
                Assert.Matches(@"\.so(\.\d+)+$", path);
                Assert.Equal(label, path);
            }
    }

    [Fact]
    public void Without_an_override_or_CUDA_HOME_the_standard_toolkit_folders_are_tried()
    {
        var paths = CudaLibraries.Candidates(CudaLibraries.DriverLibrary, _ => null).Select(c => c.Path).ToList();
        Assert.Contains("/usr/local/cuda/lib64/libcuda.so.1", paths);
        if (Gpu.TargetDirectory() is { } target)
            Assert.Contains($"{target}/libcuda.so.1", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("SEA_", StringComparison.Ordinal));
    }

    [Fact]
    public void CUDA_HOME_equal_to_the_default_folder_is_tried_once()
    {
        var paths = CudaLibraries.Candidates(CudaLibraries.NvrtcLibrary, Environment(("CUDA_HOME", "/usr/local/cuda/")))
            .Select(c => c.Path).ToList();
        Assert.Equal(paths.Count, paths.Distinct().Count());
    }

    [Fact]
    public void An_override_naming_a_missing_file_is_recorded_first_with_its_error()
    {
        const string missing = "/nonexistent/sea-test/libnvrtc.so.13";
        var result = CudaLibraries.Attempt(CudaLibraries.NvrtcLibrary, Environment(("SEA_LIBNVRTC", missing)));
        Assert.Equal($"SEA_LIBNVRTC={missing}", result.Attempts[0].Candidate);
        Assert.Equal("no such file", result.Attempts[0].Error);
    }

    [Fact]
    public void An_override_naming_a_library_that_is_not_the_driver_is_refused()
    {
        string? libm = new[] { "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/aarch64-linux-gnu/libm.so.6", "/lib64/libm.so.6" }
            .FirstOrDefault(File.Exists);
        if (libm is null)
            Assert.Skip("no libm.so.6 in the usual places to stand in for a wrong library");
        var result = CudaLibraries.Attempt(CudaLibraries.DriverLibrary, Environment(("SEA_LIBCUDA", libm)));
        Assert.Equal($"SEA_LIBCUDA={libm}", result.Attempts[0].Candidate);
        Assert.Contains("has no cuInit", result.Attempts[0].Error);
    }

    [Fact]
    public void An_override_variable_pointing_to_a_missing_file_appears_in_the_trace()
    {
        // cuBLAS rather than NVRTC: the NVRTC tests load NVRTC wherever it is installed, and a loaded library's
        // override is no longer consulted.
        if (CudaLibraries.IsLoaded(CudaLibraries.CublasLibrary))
            Assert.Skip("cuBLAS is already loaded in this process, so the override is no longer consulted");
        const string variable = "SEA_LIBCUBLAS", missing = "/nonexistent/sea-test/libcublas.so.13";
        Assert.Equal(variable, CudaLibraries.OverrideVariable(CudaLibraries.CublasLibrary));
        string? before = System.Environment.GetEnvironmentVariable(variable);
        try
        {
            System.Environment.SetEnvironmentVariable(variable, missing);
            string trace = CudaLibraries.Trace(CudaLibraries.CublasLibrary);
            Assert.Contains($"{variable}={missing}: no such file", trace);
            // The override is tried before the sonames, and the sonames are still tried after it.
            Assert.True(trace.IndexOf(missing, StringComparison.Ordinal) < trace.IndexOf("libcublas.so.12", StringComparison.Ordinal));
        }
        finally
        {
            System.Environment.SetEnvironmentVariable(variable, before);
        }
    }

    [Fact]
    public void Without_a_driver_TryLoad_is_false_and_the_trace_lists_every_attempt()
    {
        Gpu.RequireNoDriver();
        Assert.False(CudaLibraries.TryLoad(CudaLibraries.DriverLibrary, out var handle));
        Assert.Equal(IntPtr.Zero, handle);
        Assert.Null(CudaLibraries.LoadedFrom(CudaLibraries.DriverLibrary));
        var attempts = CudaLibraries.Attempts(CudaLibraries.DriverLibrary);
        Assert.All(attempts, a => Assert.NotNull(a.Error));
        string trace = CudaLibraries.Trace(CudaLibraries.DriverLibrary);
        Assert.StartsWith("cuda: not loaded; tried libcuda.so.1: ", trace);
        foreach (var attempt in attempts)
            Assert.Contains(attempt.ToString(), trace);
    }

    [Fact]
    public void Without_a_driver_a_driver_call_throws_DllNotFoundException_naming_every_attempt()
    {
        Gpu.RequireNoDriver();
        var e = Assert.Throws<DllNotFoundException>(() => Driver.cuInit(0));
        Assert.Contains("the CUDA driver (cuda) could not be loaded", e.Message);
        foreach (var attempt in CudaLibraries.Attempts(CudaLibraries.DriverLibrary))
            Assert.Contains(attempt.Candidate, e.Message);
        Assert.Contains("/usr/local/cuda/lib64/libcuda.so.1", e.Message);
        Assert.Contains("SEA_LIBCUDA", e.Message);
    }

    [Fact]
    public void A_library_the_resolver_does_not_know_is_an_argument_error()
    {
        var e = Assert.Throws<ArgumentException>(() => CudaLibraries.TryLoad("cudnn", out _));
        Assert.Contains("cudnn", e.Message);
    }

    [Fact]
    public void The_whole_trace_has_one_line_per_library()
    {
        var lines = CudaLibraries.Trace().Split(System.Environment.NewLine);
        Assert.Equal(CudaLibraries.LogicalNames, lines.Select(l => l[..l.IndexOf(':')]));
    }
}
