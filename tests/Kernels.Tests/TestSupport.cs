namespace Engine.Kernels.Tests;

/// <summary>
/// Tests that read or set the SEA_LIB* variables, or whose outcome depends on what the resolver has loaded, run one
/// at a time: environment variables belong to the whole process.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CudaEnvironment
{
    public const string Name = "CUDA environment";
}
