namespace Engine.Cli;

/// <summary>Exit codes, and the one place where expected failures become a message instead of a stack trace.</summary>
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
        catch (Engine.Training.TrainingDivergedException e)
        {
            Console.Error.WriteLine($"sea: error: {e.Message}");
            return Failed;
        }
        catch (Exception e) when (e is EngineException or IOException or UnauthorizedAccessException or InvalidOperationException
                                      or FormatException or DllNotFoundException or NotSupportedException
                                      or Engine.Training.Data.DataFormatException or ArgumentException or System.Text.Json.JsonException
                                      or Engine.Kernels.Native.CudaException or Engine.Training.Checkpoints.CheckpointException)
        {
            Console.Error.WriteLine($"sea: error: {e.Message}");
            return BadInput;
        }
    }
}
