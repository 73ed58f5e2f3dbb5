using System.Text.Json;
using Engine.Cpu;

namespace Engine.Cli.Tests;

public class CommandTests
{
    [Fact]
    public void Gradcheck_prints_one_line_per_case_and_the_summary()
    {
        var output = new StringWriter();
        int exit = GradCheckCommand.Run(CpuBackend.Shared, "sigmoid", 999, output);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(CliErrors.Ok, exit);
        Assert.Contains(lines, l => l.StartsWith("pass  sigmoid "));
        Assert.Contains(lines, l => l.StartsWith("pass  log_sigmoid "));
        Assert.Equal("2 passed, 0 failed", lines[^1].Trim());
    }

    [Fact]
    public void Gradcheck_with_nothing_to_check_fails()
    {
        var output = new StringWriter();
        Assert.Equal(CliErrors.Failed, GradCheckCommand.Run(CpuBackend.Shared, "no-such-op", 999, output));
        Assert.EndsWith("0 passed, 0 failed", output.ToString().Trim());
    }

    [Fact]
    public void Bench_ops_writes_a_json_report_with_every_kernel()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sea-bench-{Guid.NewGuid():N}.json");
        try
        {
            Assert.Equal(CliErrors.Ok, BenchCommand.RunOps(quick: true, path));
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var root = json.RootElement;
            Assert.True(root.GetProperty("quick").GetBoolean());
            Assert.True(root.GetProperty("machine").GetProperty("peak_gflops_f32").GetDouble() > 0);
            Assert.True(root.GetProperty("machine").GetProperty("copy_g_bps").GetDouble() > 0);
            var results = root.GetProperty("results").EnumerateArray().ToList();
            var names = results.Select(r => $"{r.GetProperty("name").GetString()} {r.GetProperty("provider").GetString()} {r.GetProperty("d_type").GetString()}").ToList();
            Assert.Contains("gemm A·B managed float32", names);
            Assert.Contains("spmm Â·X managed float32", names);
            if (CpuBackend.OpenBlasAvailable) Assert.Contains("gemm A·B OpenBLAS float32", names);
            foreach (var r in results)
            {
                Assert.True(r.GetProperty("median_seconds").GetDouble() > 0);
                Assert.True(r.GetProperty("rate").GetDouble() > 0);
                Assert.True(r.GetProperty("floor_seconds").GetDouble() > 0);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Unknown_device_is_a_clear_error()
    {
        var e = Assert.Throws<FormatException>(() => DeviceChoice.Open("tpu", TextWriter.Null));
        Assert.Contains("--device", e.Message);
    }
}
