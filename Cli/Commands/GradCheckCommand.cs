using System.CommandLine;
using Engine.Autograd;

namespace Engine.Cli;

/// <summary><c>sea gradcheck</c>: every registered gradient check, one line each, then "N passed, N failed".</summary>
internal static class GradCheckCommand
{
    public static Command Create()
    {
        var device = DeviceChoice.Option();
        var filter = new Option<string?>("--filter") { Description = "only the cases whose name contains this text" };
        var seed = CliOptions.Seed("--seed", "seed of the random inputs", 999);
        var command = new Command("gradcheck", "Compares every op's and loss's gradient with central differences in float64.")
        {
            device, filter, seed,
        };
        command.SetAction(parse => Run(DeviceChoice.Open(parse.GetValue(device)!, Console.Out), parse.GetValue(filter), parse.GetValue(seed), Console.Out));
        return command;
    }

    /// <summary>All cases the engine registers: every op and loss, then every model's loss.</summary>
    public static IReadOnlyList<GradCheckCase> AllCases => [.. OpGradCheckCases.All, .. Engine.Training.Models.ModelGradCheckCases.All];

    /// <summary>The cases whose name contains <paramref name="filter"/> (all of them when it is null).</summary>
    public static IEnumerable<GradCheckCase> Matching(string? filter) =>
        AllCases.Where(c => filter is null || c.Name.Contains(filter, StringComparison.OrdinalIgnoreCase));

    public static int Run(Backend backend, string? filter, ulong seed, TextWriter output)
    {
        int passed = 0, failed = 0;
        output.WriteLine($"gradient checks on {backend.Description}");
        foreach (var check in Matching(filter))
        {
            GradCheckResult result;
            try
            {
                result = check.Run(backend, seed);
            }
            catch (Exception e) when (e is EngineException or InvalidOperationException or Kernels.Native.CudaException)
            {
                result = new GradCheckResult(check.Name, 0, double.NaN, [$"threw: {e.Message}"]);
            }
            if (result.Passed) passed++;
            else failed++;
            output.WriteLine($"{(result.Passed ? "pass" : "FAIL")}  {result.Name,-28} {result.Checked,4} partials  max |error| {result.MaxAbsError:0.0e+00}");
            foreach (var mismatch in result.Mismatches) output.WriteLine($"      {mismatch}");
        }
        output.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 && passed > 0 ? CliErrors.Ok : CliErrors.Failed;
    }
}
