using System.Diagnostics;

namespace Engine.Cli.Tests;

/// <summary>
/// The one-shot GPU check's two scripts as the device tool will meet them: the preparing half fills a carried folder
/// that fits and prints one short command, and the device half refuses, in one line, to run where it cannot.
/// </summary>
public class GpuCheckScriptTests
{
    private const long DeviceToolLimit = 64L << 20;

    [Fact]
    public void Preparing_fills_a_carried_folder_under_64_MiB_and_prints_one_command_that_names_only_it()
    {
        string root = RepositoryRoot();
        if (!File.Exists(Path.Combine(root, "..", "shared", "data", "baby", "baby.inter")))
            Assert.Skip("../shared/data/baby not found: the preparing half copies it");
        if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(p => File.Exists(Path.Combine(p, "xz"))))
            Assert.Skip("xz not found: the preparing half packs the runtime with it");
        string dir = $"out/gpu-check-test-{Guid.NewGuid():N}";
        string full = Path.Combine(root, dir);
        try
        {
            // Publishes three projects (a few seconds when built) and packs the runtime (about 17 s on 2 cores).
            var (exit, stdout, stderr) = Run(root, "bash", ["scripts/gpu-check.sh", "--into", dir]);
            Assert.True(exit == 0, $"gpu-check.sh exited {exit}: {stderr}");

            foreach (var file in new[] { "dotnet.tar.xz", "bin/sea.dll", "bin/Kernels.Tests.dll", "bin/Cli.Tests.dll", "data/baby/baby.inter" })
                Assert.True(File.Exists(Path.Combine(full, file)), $"{file} is missing from the carried folder");
            Assert.False(Directory.Exists(Path.Combine(full, "bin", "CodeCoverage")), "the coverage collector should be left out");
            long size = new DirectoryInfo(full).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
            Assert.InRange(size, 20L << 20, DeviceToolLimit);

            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains($"carry: [\"{dir}\"]", lines);
            string command = Assert.Single(lines, l => l.StartsWith("command: ", StringComparison.Ordinal))["command: ".Length..];
            Assert.True(command.Length < 2000, $"the command is {command.Length} characters");
            Assert.StartsWith($"tar -C {dir} -xJf {dir}/dotnet.tar.xz && ", command);
            // Every path it names is the carried folder or a tracked script: nothing from ../shared or this machine.
            foreach (var token in command.Split([' ', ':', '='], StringSplitOptions.RemoveEmptyEntries).Where(t => t.Contains('/')))
            {
                string path = token.StartsWith("$PWD/", StringComparison.Ordinal) ? token["$PWD/".Length..] : token;
                Assert.True(path == dir || path.StartsWith(dir + "/", StringComparison.Ordinal)
                            || path.StartsWith("scripts/", StringComparison.Ordinal) && File.Exists(Path.Combine(root, path)),
                    $"the command names '{token}', outside the carried folder");
            }

            // The command itself, here: the runtime unpacks and answers, and the device half then stops at the first
            // thing only the device tool provides ($OUT), before touching any GPU.
            var (deviceExit, _, deviceError) = Run(root, "bash", ["-c", command], withoutOut: true);
            Assert.Equal(2, deviceExit);
            Assert.StartsWith("gpu-check-device: OUT is not set", deviceError);
            Assert.Single(deviceError.Trim().Split('\n'));
            Assert.True(File.Exists(Path.Combine(full, "dotnet")), "the runtime archive should unpack its host");

            // The test executables still start after the coverage collector was pruned.
            foreach (var (tests, someClass) in new[] { ("Kernels.Tests", "ProbeTests"), ("Cli.Tests", nameof(GpuCheckScriptTests)) })
            {
                var (listExit, listing, listError) = Run(root, Path.Combine(full, "dotnet"),
                    [Path.Combine(full, "bin", tests + ".dll"), "-list", "classes"], dotnetRoot: full);
                Assert.True(listExit == 0, $"{tests} -list classes exited {listExit}: {listError}");
                Assert.Contains(someClass, listing);
            }
        }
        finally
        {
            if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
        }
    }

    [Fact]
    public void The_device_half_without_its_folder_fails_with_one_line()
    {
        var (exit, _, stderr) = Run(RepositoryRoot(), "bash", ["scripts/gpu-check-device.sh", "out/no-such-gpu-folder"]);
        Assert.Equal(2, exit);
        Assert.Equal("gpu-check-device: out/no-such-gpu-folder/bin/sea.dll not found: run scripts/gpu-check.sh here first and carry out/no-such-gpu-folder",
            stderr.Trim());
    }

    [Fact]
    public void The_device_half_refuses_an_unknown_step_in_one_line()
    {
        var (exit, _, stderr) = Run(RepositoryRoot(), "bash", ["scripts/gpu-check-device.sh", ".gpu", "memchek"]);
        Assert.Equal(2, exit);
        Assert.StartsWith("gpu-check-device: unknown step 'memchek' (steps: nvidia-smi info kernels ", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("/tmp/gpu", "is outside the repository")]
    [InlineData("scripts/gpu", "scripts/gpu is not ignored by git")]
    [InlineData("out/../gpu", "must be a plain relative path")]
    public void Preparing_refuses_a_folder_the_device_tool_cannot_carry(string into, string problem)
    {
        var (exit, stdout, stderr) = Run(RepositoryRoot(), "bash", ["scripts/gpu-check.sh", "--into", into]);
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.StartsWith("gpu-check: ", stderr);
        Assert.Contains(problem, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    /// <summary>The checkout holding these test binaries: the first parent with scripts/gpu-check.sh.</summary>
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "gpu-check.sh")))
                return dir.FullName;
        throw new InvalidOperationException($"no parent of {AppContext.BaseDirectory} holds scripts/gpu-check.sh");
    }

    private static (int Exit, string Stdout, string Stderr) Run(string workingDirectory, string file, string[] arguments,
        bool withoutOut = false, string? dotnetRoot = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (withoutOut) start.Environment.Remove("OUT");
        if (dotnetRoot is not null) start.Environment["DOTNET_ROOT"] = dotnetRoot;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }
}
