namespace Engine.Kernels;

public sealed partial class CudaBackend
{
    /// <summary>The widths kernels.cu's club_fit kernels are compiled for (32 → 8 → 32); others run the composed reference.</summary>
    private static readonly ClubLayout ClubFitCompiled = new(32, 8);

    protected override bool ClubFitTakes(ClubLayout layout) => layout == ClubFitCompiled;

    /// <summary>
    /// kernels.cu's club_fit, two launches a step: club_fit_rows, a block per 256 (pair, row)s (q forward and backward
    /// into a scratch of 96 values per row, then the block's gradient over its rows), and club_fit_adam (the blocks'
    /// gradients summed in block order, then Adam with <see cref="AdamConstants"/>, as
    /// <see cref="AdamStepCore"/>).
    /// </summary>
    protected override void ClubFitCore(Tensor x, Tensor y, int pairs, ClubLayout layout, Tensor parameters, Tensor m, Tensor v,
        int steps, int step0, double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        const int scratchPerRow = 2 * 32 + 4 * 8; // kernels.cu's CLUB_SCRATCH
        int blocks = (x.Rows + Threads - 1) / Threads;
        var t = x.DType;
        using var scratch = Allocate(x.Rows, scratchPerRow, t);
        using var partials = Allocate(blocks, layout.Length, t);
        for (int step = step0 + 1; step <= step0 + steps; step++)
        {
            Launch("club_fit_rows", t, blocks, x.Rows, x.Rows / pairs, Ptr(x), Ptr(y), Ptr(parameters), Ptr(scratch), Ptr(partials));
            Launch("club_fit_adam", t, Blocks(layout.Length),
                [blocks, Ptr(partials), Ptr(parameters), Ptr(m), Ptr(v), .. AdamConstants(t, lr, beta1, beta2, eps, weightDecay, step)]);
        }
    }
}
