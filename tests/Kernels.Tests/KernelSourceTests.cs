using System.Text.RegularExpressions;

namespace Engine.Kernels.Tests;

/// <summary>
/// What can be checked of kernels.cu without a GPU: every kernel the CUDA backend launches is declared there, for
/// both dtypes, with the parameter count the backend passes.
/// </summary>
public class KernelSourceTests
{
    private static string Source()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "kernels.cu");
            if (File.Exists(path)) return File.ReadAllText(path);
        }
        Assert.Skip("kernels.cu not found above the test binaries");
        return "";
    }

    /// <summary>The kernels CudaBackend launches with the number of arguments it passes (read from CudaBackend.cs).</summary>
    public static TheoryData<string, int> Launched => new()
    {
        { "fill", 3 }, { "unary_forward", 5 }, { "unary_backward", 7 }, { "binary_forward", 8 },
        { "binary_backward_a", 9 }, { "binary_backward_b", 9 }, { "add_scaled", 4 }, { "reduce_forward", 6 },
        { "reduce_backward", 8 }, { "logsumexp_rows_forward", 4 }, { "logsumexp_rows_backward", 6 },
        { "spmm_csr_forward", 8 }, { "gather_rows", 5 }, { "scatter_add_rows", 5 }, { "copy_block", 7 },
        { "row_l2_normalize_forward", 5 }, { "row_l2_normalize_backward", 7 }, { "softmax_rows_forward", 5 },
        { "softmax_rows_backward", 6 }, { "batchnorm_forward", 9 }, { "batchnorm_backward", 10 }, { "adam_step", 12 },
        { "club_fit_rows", 7 }, { "club_fit_adam", 12 },
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
}
