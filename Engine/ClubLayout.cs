namespace Engine;

/// <summary>
/// The packed layout of CLUB's variational network q (Cheng et al., 2020), as <see cref="Backend.ClubFit"/> takes it: two branches,
/// μ(x) = L2(ReLU(L1(x))) then logvar(x) = tanh(L4(ReLU(L3(x)))), each laid out as [L1 weight (hidden×width) |
/// L1 bias (hidden) | L2 weight (width×hidden) | L2 bias (width)], row-major with PyTorch's Linear shapes (out×in).
/// Adam's moments are packed the same way. With widths (32, 8) that is 2 × 552 = 1,104 numbers, the layout
/// kernels.cu's <c>club_fit</c> kernels are compiled for.
/// </summary>
public readonly record struct ClubLayout(int Width, int Hidden)
{
    public int Weight1 => 0;
    public int Bias1 => Hidden * Width;
    public int Weight2 => Bias1 + Hidden;
    public int Bias2 => Weight2 + Width * Hidden;
    public int BranchLength => Bias2 + Width;
    public int Length => 2 * BranchLength;

    /// <summary>Offset of the μ branch (0) or the logvar branch (1).</summary>
    public int Branch(int branch) => branch * BranchLength;

    /// <summary>The parameter tensors' shapes in packing order (μ.L1 weight, bias, μ.L2 weight, bias, then logvar's).</summary>
    public (int Rows, int Cols)[] Shapes =>
        [(Hidden, Width), (1, Hidden), (Width, Hidden), (1, Width), (Hidden, Width), (1, Hidden), (Width, Hidden), (1, Width)];

    /// <summary>Copies q's tensors (in <see cref="Shapes"/>' order) into the packed 1×<see cref="Length"/> tensor.</summary>
    public static void Pack(IReadOnlyList<Tensor> parts, Tensor packed) => Copy(parts, packed, toPacked: true);

    /// <summary>Copies the packed tensor back into q's tensors.</summary>
    public static void Unpack(Tensor packed, IReadOnlyList<Tensor> parts) => Copy(parts, packed, toPacked: false);

    private static void Copy(IReadOnlyList<Tensor> parts, Tensor packed, bool toPacked)
    {
        int offset = 0;
        foreach (var t in parts)
        {
            var flat = t.View(1, (int)t.Length);
            if (toPacked) packed.Backend.CopyBlock(flat, 0, 0, packed, 0, offset, 1, flat.Cols, accumulate: false);
            else packed.Backend.CopyBlock(packed, 0, offset, flat, 0, 0, 1, flat.Cols, accumulate: false);
            offset += flat.Cols;
        }
    }
}
