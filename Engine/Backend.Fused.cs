namespace Engine;

/// <summary>
/// The second layer of the backend contract: fused ops, each one call where the primitives would take many (and, for
/// InfoNCE, an n×n intermediate). Every fused op has the same parts, each in its own place:
/// <list type="bullet">
/// <item>its public entry here, in <c>Backend.&lt;Op&gt;.cs</c>: arguments validated and the op counted once, as for a
/// primitive, then the backend's kernel where it takes these shapes, else the composed reference;</item>
/// <item>the composed reference, built from the primitives alone (<c>Engine/Fused/&lt;Op&gt;.cs</c>): the definition the
/// kernels are held to, and the fallback, so an unsupported shape never stops training;</item>
/// <item>a kernel per backend with the shapes it takes (<c>CpuBackend.&lt;Op&gt;.cs</c>, <c>CudaBackend.&lt;Op&gt;.cs</c>);</item>
/// <item>an autograd op (Autograd), a float64 gradient check (<c>sea gradcheck</c>), and parity tests of kernel against
/// reference on the CPU and on CUDA (the emulated device in CI), float32 and float64 (Kernels.Tests).</item>
/// </list>
/// </summary>
public abstract partial class Backend
{
    /// <summary>
    /// Runs every fused op as its composed reference instead of the backend's kernel (<c>sea train --composed</c>): the
    /// same results to rounding, more ops and more memory; for checking the kernels.
    /// </summary>
    public bool ComposedOnly { get; set; }
}
