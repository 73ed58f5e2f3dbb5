using System.CommandLine;
using Engine.Autograd;
using Engine.Cpu;

namespace Engine.Cli;

/// <summary>
/// <c>sea selftest --device cuda</c>: every registered case run on the device and held to the CPU reference (the
/// loss and every input's gradient, float64, on the same random inputs), then the gradient checks on the device;
/// ends with "N passed, N failed".
/// </summary>
internal static class SelfTestCommand
{
    public static Command Create()
    {
        var device = DeviceChoice.Option("cuda", "the device to test against the CPU");
        var filter = new Option<string?>("--filter") { Description = "only the cases whose name contains this text" };
        var command = new Command("selftest", "Holds a device to the CPU reference op by op, then checks its gradients.") { device, filter };
        command.SetAction(parse => Run(DeviceChoice.Open(parse.GetValue(device)!, Console.Out), Console.Out, parse.GetValue(filter)));
        return command;
    }

    public static int Run(Backend backend, TextWriter output, string? filter = null)
    {
        int passed = 0, failed = 0;
        output.WriteLine($"self-test of {backend.Description} against {CpuBackend.Shared.Description}");
        foreach (var check in GradCheckCommand.Matching(filter))
        {
            var mismatch = CompareWithCpu(check, backend);
            if (mismatch is null) passed++;
            else failed++;
            output.WriteLine($"{(mismatch is null ? "pass" : "FAIL")}  parity {check.Name}{(mismatch is null ? "" : ": " + mismatch)}");
        }
        int gradFailed = GradCheckCommand.Run(backend, filter, 999, output) == CliErrors.Ok ? 0 : 1;
        output.WriteLine($"{passed} passed, {failed} failed (parity); gradient checks {(gradFailed == 0 ? "passed" : "FAILED")}");
        return failed == 0 && gradFailed == 0 ? CliErrors.Ok : CliErrors.Failed;
    }

    /// <summary>The first difference between the device and the CPU on one case, or null when they agree to 1e-9 relative.</summary>
    public static string? CompareWithCpu(GradCheckCase check, Backend backend)
    {
        try
        {
            var (cpuLoss, cpuGrads) = LossAndGradients(check.Build(CpuBackend.Shared, new Rng(999)));
            var (loss, grads) = LossAndGradients(check.Build(backend, new Rng(999)));
            if (!Close(cpuLoss, loss)) return $"loss {loss:G12} vs CPU {cpuLoss:G12}";
            for (int i = 0; i < grads.Length; i++)
                for (int e = 0; e < grads[i].Length; e++)
                    if (!Close(cpuGrads[i][e], grads[i][e]))
                        return $"gradient of input {i}, entry {e}: {grads[i][e]:G12} vs CPU {cpuGrads[i][e]:G12}";
            return null;
        }
        catch (Exception e) when (e is EngineException or InvalidOperationException or Kernels.Native.CudaException)
        {
            return $"threw {e.GetType().Name}: {e.Message}";
        }
    }

    private static bool Close(double reference, double value) => Math.Abs(reference - value) <= 1e-9 + 1e-9 * Math.Abs(reference);

    private static (double Loss, double[][] Grads) LossAndGradients(GradCheckProblem problem)
    {
        foreach (var v in problem.Inputs) v.ZeroGrad();
        using var tape = Tape.Begin();
        var loss = problem.Loss();
        tape.Backward(loss);
        return (loss.Value.Item(), problem.Inputs.Select(v => v.Grad?.ToArray<double>() ?? new double[v.Value.Length]).ToArray());
    }
}
