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

    /// <summary>The real executable, run in a fresh empty folder: the JSON lands at --out and nothing else is written.</summary>
    [Fact]
    public void Bench_ops_writes_its_json_report_at_out_and_nowhere_else()
    {
        var folder = Directory.CreateTempSubdirectory("sea-bench-").FullName;
        try
        {
            var current = Directory.CreateDirectory(Path.Combine(folder, "current")).FullName;
            var path = Path.Combine(folder, "reports", "ops.json");
            var (exit, output, error) = ProcessTests.Sea(current, "bench", "ops", "--quick", "--out", path);
            Assert.True(exit == CliErrors.Ok, error);
            Assert.Contains($"wrote {path}", output);
            Assert.Empty(Directory.GetFileSystemEntries(current));
            Assert.Equal(new[] { path }, Directory.GetFileSystemEntries(Path.GetDirectoryName(path)!));

            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var root = json.RootElement;
            Assert.True(root.GetProperty("quick").GetBoolean());
            var machine = root.GetProperty("machine");
            Assert.True(machine.GetProperty("peak_gflops_f32").GetDouble() > 0);
            Assert.True(machine.GetProperty("copy_g_bps").GetDouble() > 0);
            Assert.Contains("read + write counted", machine.GetProperty("copy_basis").GetString());
            var results = root.GetProperty("results").EnumerateArray().ToList();
            var names = results.Select(r => $"{r.GetProperty("name").GetString()} {r.GetProperty("provider").GetString()} {r.GetProperty("d_type").GetString()}").ToList();
            Assert.Contains("gemm F·Mᵀ managed float32", names);
            Assert.Contains("spmm Â·X managed float32", names);
            if (CpuBackend.OpenBlasAvailable) Assert.Contains("gemm F·Mᵀ OpenBLAS float32", names);
            foreach (var r in results)
            {
                Assert.True(r.GetProperty("median_seconds").GetDouble() > 0);
                Assert.True(r.GetProperty("rate").GetDouble() > 0);
                Assert.True(r.GetProperty("floor_seconds").GetDouble() > 0);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_copy_counts_each_byte_read_and_written()
    {
        // 500 MB copied in half a second: 1 GB/s read and 1 GB/s written.
        Assert.Equal(2.0, Engine.Cli.Bench.MachineFloors.CopyRateGBps(500_000_000, 0.5), 12);
    }

    [Fact]
    public void Unknown_device_is_a_clear_error()
    {
        var e = Assert.Throws<FormatException>(() => DeviceChoice.Open("tpu", TextWriter.Null));
        Assert.Contains("--device", e.Message);
    }
}

public class TrainCommandTests
{
    [Fact]
    public void Train_writes_metrics_json_with_the_run_and_its_configuration()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"sea-train-{Guid.NewGuid():N}");
        try
        {
            var config = new Engine.Training.RunConfig { Model = "lightgcn", Epochs = 2, Seed = 5, Layers = 1 };
            Assert.Equal(CliErrors.Ok, TrainCommand.Run(config, "cpu", folder));
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
            var root = json.RootElement;
            Assert.Equal("lightgcn", root.GetProperty("model").GetString());
            Assert.Equal("synthetic", root.GetProperty("dataset").GetString());
            Assert.Equal(5UL, root.GetProperty("seed").GetUInt64());
            Assert.Equal(2, root.GetProperty("epochs_run").GetInt32());
            Assert.InRange(root.GetProperty("best_epoch").GetInt32(), 1, 2);
            foreach (var key in new[] { "recall@10", "recall@20", "ndcg@10", "ndcg@20", "precision@20", "map@20" })
                Assert.InRange(root.GetProperty("test").GetProperty(key).GetDouble(), 0, 1);
            Assert.True(root.GetProperty("valid").GetProperty("recall@20").GetDouble() > 0);
            Assert.True(root.GetProperty("train_seconds_per_epoch").GetDouble() > 0);
            Assert.Equal(1, root.GetProperty("config").GetProperty("layers").GetInt32());
            Assert.Equal(2, root.GetProperty("history").GetArrayLength());
            Assert.Empty(Directory.GetFiles(folder, "*.tmp")); // written atomically: no temporary left behind
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_malformed_dataset_is_one_clear_error_naming_the_file_and_line()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"sea-bad-{Guid.NewGuid():N}", "tiny");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "tiny.inter"), "userID\titemID\tx_label\n0\t1\t0\n1\tx\t0\n");
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            int exit = CliErrors.Run(() => TrainCommand.Run(new Engine.Training.RunConfig { Model = "lightgcn", Data = folder, Epochs = 1 }, "cpu", null));
            Assert.Equal(CliErrors.BadInput, exit);
        }
        finally
        {
            Console.SetError(previous);
            Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
        }
        var message = error.ToString();
        Assert.StartsWith("sea: error: ", message);
        Assert.Contains("tiny.inter", message);
        Assert.Contains("line 3", message);
        Assert.Single(message.Trim().Split('\n'));
    }
}

public class ProcessTests
{
    /// <summary>Runs the real executable in <paramref name="workingDirectory"/>: its exit code, stdout and stderr.</summary>
    internal static (int Exit, string Output, string Error) Sea(string workingDirectory, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "sea.dll"), .. arguments])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = workingDirectory,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }

    /// <summary>The real executable: a missing dataset folder is one line on stderr and exit code 2, no stack trace.</summary>
    [Fact]
    public void A_bad_argument_exits_2_with_one_line()
    {
        var (exit, _, error) = Sea(Directory.GetCurrentDirectory(), "train", "--data", "/no/such/folder");
        Assert.Equal(2, exit);
        Assert.StartsWith("sea: error: ", error);
        Assert.Contains("/no/such/folder", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
