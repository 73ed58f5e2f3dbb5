namespace Engine.Cli;

/// <summary>
/// Exit codes (0 done, 1 a failure during the work, 2 a usage error), and the one place where expected failures become
/// a one-line message instead of a stack trace.
/// </summary>
internal static class CliErrors
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (IsUsageError(e) || IsFailure(e))
        {
            Console.Error.WriteLine($"sea: error: {e.Message}");
            return IsUsageError(e) ? BadInput : Failed;
        }
    }

    /// <summary>The command as given cannot run: a bad option or value, a missing or malformed input file, a refused output.</summary>
    private static bool IsUsageError(Exception e) =>
        e is ArgumentException or FormatException or FileNotFoundException or DirectoryNotFoundException or InvalidOperationException
            or NotSupportedException or Engine.Training.Data.DataFormatException or System.Text.Json.JsonException
            or Engine.Training.Checkpoints.CheckpointException or Engine.IO.RefusedOutputException;

    /// <summary>The work started and failed: divergence, a device or library error, an I/O failure.</summary>
    private static bool IsFailure(Exception e) =>
        e is Engine.Training.TrainingDivergedException or EngineException or Engine.Kernels.Native.CudaException or DllNotFoundException
            or IOException or UnauthorizedAccessException;
}
