using System.Text.RegularExpressions;

namespace Engine.Kernels.Tests;

/// <summary>
/// What can be checked of kernels.cu without a GPU: every kernel the CUDA backend launches is declared there, for
/// both dtypes, with the parameter count the backend passes.
/// </summary>
public class KernelSourceTests
{
    /// <summary>The repository's root: the folder above the test binaries that holds kernels.cu.</summary>
    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "kernels.cu"))) return dir.FullName;
        Assert.Skip("kernels.cu not found above the test binaries");
        return "";
    }

    private static string Source() => File.ReadAllText(Path.Combine(Root(), "kernels.cu"));

    /// <summary>The kernels CudaBackend launches with the number of arguments it passes (read from CudaBackend.cs).</summary>
    public static TheoryData<string, int> Launched => new()
    {
        { "fill", 3 }, { "unary_forward", 5 }, { "unary_backward", 7 }, { "binary_forward", 8 },
        { "binary_backward_a", 9 }, { "binary_backward_b", 9 }, { "add_scaled", 4 }, { "reduce_forward", 6 },
        { "reduce_backward", 8 }, { "logsumexp_rows_forward", 4 }, { "logsumexp_rows_backward", 6 },
        { "spmm_csr_forward", 8 }, { "gather_rows", 5 }, { "scatter_add_rows", 5 }, { "copy_block", 7 },
        { "row_l2_normalize_forward", 5 }, { "row_l2_normalize_backward", 7 }, { "softmax_rows_forward", 5 },
        { "softmax_rows_backward", 6 }, { "batchnorm_forward", 9 }, { "batchnorm_backward", 10 }, { "adam_step", 12 },
        { "club_fit_rows", 7 }, { "club_fit_adam", 12 }, { "bpr_forward", 4 }, { "bpr_backward", 6 }, { "club_forward", 7 }, { "club_backward", 11 },
    };

    [Theory]
    [MemberData(nameof(Launched))]
    public void Every_launched_kernel_is_declared_for_both_dtypes_with_its_arguments(string kernel, int arguments)
    {
        var source = Source();
        // Declared through a macro (name_##S for S in f32, f64) or spelled out per dtype.
        var declaration = new Regex($@"__global__\s+void\s+(?:__launch_bounds__\([\w:]+\)\s+)?{kernel}_(##S|f32)\s*\(([^)]*)\)");
        var match = declaration.Match(source);
        Assert.True(match.Success, $"kernels.cu declares no {kernel}_f32 (or {kernel}_##S)");
        var parameters = match.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.Equal(arguments, parameters);
        if (match.Groups[1].Value == "f32") Assert.Contains($"{kernel}_f64", source);
    }

    [Fact]
    public void Int32_fill_is_declared()
    {
        Assert.Matches(new Regex(@"__global__\s+void\s+fill_i32\s*\(\s*long long n,\s*int v,\s*int\* y\s*\)"), Source());
    }

    /// <summary>
    /// Every extern "C" kernel of kernels.cu is launched by the CUDA backend: none is written and left unused. The
    /// launches are read from every Kernels/CudaBackend*.cs, so each fused op's file counts once it exists.
    /// </summary>
    [Fact]
    public void Every_kernel_in_kernels_cu_is_launched_by_the_CUDA_backend()
    {
        // A macro's name_##S is instantiated by SEA_FLOATING for f32 and f64; other names are spelled out.
        var declared = Regex.Matches(Source(), @"extern\s+""C""\s+__global__\s+void\s+(?:__launch_bounds__\([\w:]+\)\s+)?(\w+?)(_##S)?\(")
            .SelectMany(m => m.Groups[2].Success ? new[] { $"{m.Groups[1].Value}_f32", $"{m.Groups[1].Value}_f64" } : [m.Groups[1].Value])
            .ToHashSet();
        Assert.Contains("bpr_forward_f64", declared); // the pattern reads the macros
        Assert.Contains("fill_i32", declared);

        // Launch(op, dtype, ...), LaunchShared(op, dtype, ...) and KernelSource.Name(op, dtype) add the dtype's suffix;
        // device.Launch takes the full name.
        var launched = new HashSet<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(Root(), "Kernels"), "CudaBackend*.cs"))
            foreach (Match m in Regex.Matches(File.ReadAllText(file), @"\b(device\.Launch|LaunchShared|Launch|KernelSource\.Name)\(\s*""(\w+)"""))
                launched.UnionWith(m.Groups[1].Value == "device.Launch" ? [m.Groups[2].Value] : [$"{m.Groups[2].Value}_f32", $"{m.Groups[2].Value}_f64"]);

        var unlaunched = declared.Except(launched).Order().ToList();
        Assert.True(unlaunched.Count == 0, $"kernels.cu declares kernels that CudaBackend never launches: {string.Join(", ", unlaunched)}");
    }
}
