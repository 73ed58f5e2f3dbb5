using System.Diagnostics;

namespace Engine.Cli.Tests;

/// <summary>
/// The emulated CUDA device tested itself: a copy of kernels.cu with seven bugs planted, each where one case alone meets it,
/// is built into a second emulator library (tests/EmulatedCuda/build.sh), and `sea selftest --device cuda --filter
/// CASE` run on it must fail and say what went wrong, while the same command on the unchanged emulator passes.
/// Needs g++ and NVRTC (scripts/emulated-cuda.sh provides the unchanged emulator); skipped without them unless
/// SEA_REQUIRE_CUDA=1.
/// </summary>
[Trait("Category", Category.Emulator)]
public class PlantedBugTests
{
    private sealed record Bug(string Original, string Planted, string Case, string Report);

    private static readonly Dictionary<string, Bug> Bugs = new()
    {
        ["a skipped element"] = new(
            "i < n; i += global_threads()) y[i] = unary_value(op, x[i], alpha);",
            "i + 1 < n; i += global_threads()) y[i] = unary_value(op, x[i], alpha);",
            "tanh", "FAIL  parity tanh: loss"),
        ["an out-of-range index"] = new(
            "    for (long long i = global_thread(); i < n; i += global_threads())\n    {\n        long long r = i / cols;\n        dx[i] += dy[r] * d_exp(x[i] - y[r]);",
            "    for (long long i = global_thread(); i <= n; i += global_threads())\n    {\n        long long r = i / cols;\n        dx[i] += dy[r] * d_exp(x[i] - y[r]);",
            "log_sum_exp_rows", "kernel logsumexp_rows_backward_f64"),
        ["a missing barrier"] = new(
            "            partial[warp][lane] = acc;\n            __syncthreads();\n            if (warp == 0 && c < cols)\n            {\n                T total = partial[0][lane];\n                for (int w = 1; w < warps; ++w) total = isMax",
            "            partial[warp][lane] = acc;\n            if (warp == 0 && c < cols)\n            {\n                T total = partial[0][lane];\n                for (int w = 1; w < warps; ++w) total = isMax",
            "sum_dim0", "FAIL  parity sum_dim0: loss NaN"), // warp 0 sums shared memory nobody wrote: poison
        ["a barrier not reached by every thread"] = new(
            "if (threadIdx.x == 0) { mean[c] = mu; invStd[c] = inv; }",
            "if (threadIdx.x == 0) { mean[c] = mu; invStd[c] = inv; __syncthreads(); }",
            "batch_norm", "is not reached by every thread of its block"),
        ["a wrong argument count"] = new(
            "copy_block_##S(int rows, int cols, const T* src, int srcStride, T* dst, int dstStride, \\\n                                              int accumulate)",
            "copy_block_##S(int rows, int cols, const T* src, int srcStride, T* dst, int dstStride, \\\n                                              int accumulate, int planted)",
            "concat_rows", "bytes of parameters, but copy_block_f64(int, int, double*, int, double*, int, int, int) takes"),
        ["shared memory beyond the launch's size"] = new(
            "        first = block_reduce(first, MinOp(), none);",
            "        sea_dynamic_shared[threadIdx.x] = 1;\n        first = block_reduce(first, MinOp(), none);",
            "max_all", "wrote dynamic shared memory at byte 0, beyond the 0 bytes its launch asked for"),
        ["a shuffle a lane never reaches"] = new(
            "        first = warp_reduce(first, MinOp());",
            "        if (lane_id() == 31) return;\n        first = warp_reduce(first, MinOp());",
            "max_dim1", "returned while lanes of its warp wait for it at __shfl_down_sync"),
    };

    public static TheoryData<string> BugNames => [.. Bugs.Keys];

    private static readonly Lazy<string> PlantedLibrary = new(BuildPlanted);

    [Theory]
    [MemberData(nameof(BugNames))]
    public void The_emulator_catches(string bug)
    {
        var (planted, unchanged) = Libraries();
        var b = Bugs[bug];
        var (exit, output) = Selftest(planted, b.Case);
        Assert.True(exit != 0, $"the planted {bug} went unnoticed:\n{output}");
        Assert.Contains(b.Report, output);
        var (cleanExit, cleanOutput) = Selftest(unchanged, b.Case);
        Assert.True(cleanExit == 0, $"the unchanged emulator fails the same case:\n{cleanOutput}");
    }

    private static (string Planted, string Unchanged) Libraries()
    {
        string? unchanged = Environment.GetEnvironmentVariable("SEA_LIBCUDA");
        if (unchanged is null || !unchanged.EndsWith("libcuda-emulated.so", StringComparison.Ordinal))
        {
            if (Gpu.Required) Assert.Fail("SEA_REQUIRE_CUDA=1 but SEA_LIBCUDA is not the emulated device: run under scripts/emulated-cuda.sh");
            Assert.Skip("not on the emulated device: run under scripts/emulated-cuda.sh");
        }
        return (PlantedLibrary.Value, unchanged);
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "kernels.cu")) && Directory.Exists(Path.Combine(dir.FullName, "tests", "EmulatedCuda")))
                return dir.FullName;
        throw new InvalidOperationException("kernels.cu and tests/EmulatedCuda not found above the test binaries");
    }

    private static string BuildPlanted()
    {
        string root = Root(), folder = Directory.CreateTempSubdirectory("sea-planted-").FullName;
        string source = File.ReadAllText(Path.Combine(root, "kernels.cu"));
        foreach (var (name, bug) in Bugs)
        {
            int at = source.IndexOf(bug.Original, StringComparison.Ordinal);
            Assert.True(at >= 0 && source.IndexOf(bug.Original, at + 1, StringComparison.Ordinal) < 0,
                $"kernels.cu changed: the text to plant {name} in is not there exactly once");
            source = source.Replace(bug.Original, bug.Planted, StringComparison.Ordinal);
        }
        string planted = Path.Combine(folder, "kernels.cu");
        File.WriteAllText(planted, source);
        var (exit, output) = Run("bash", [Path.Combine(root, "tests", "EmulatedCuda", "build.sh"), "--source", planted, "--out", Path.Combine(folder, "build")], []);
        Assert.True(exit == 0, $"building the planted emulator failed:\n{output}");
        return output.Trim().Split('\n')[^1];
    }

    private static (int Exit, string Output) Selftest(string library, string filter) =>
        Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "sea.dll"), "selftest", "--device", "cuda", "--filter", filter],
            new() { ["SEA_LIBCUDA"] = library, ["SEA_LIBCUBLAS"] = library, ["SEA_CUDA_NO_CACHING"] = "1" });

    private static (int Exit, string Output) Run(string program, string[] arguments, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
