namespace Engine.Kernels;

// kernels.cu section 8: elementwise over the b rows.
public sealed partial class CudaBackend
{
    protected override bool BprRowsCore(Tensor positive, Tensor negative, Tensor loss)
    {
        Launch("bpr_forward", positive.DType, Blocks(positive.Rows), positive.Rows, Ptr(positive), Ptr(negative), Ptr(loss));
        return true;
    }

    protected override bool BprRowsBackwardCore(Tensor positive, Tensor negative, double scale, Tensor? dPositive, Tensor? dNegative)
    {
        Launch("bpr_backward", positive.DType, Blocks(positive.Rows), positive.Rows, Ptr(positive), Ptr(negative),
            Scalar(positive.DType, scale), PtrOrNull(dPositive), PtrOrNull(dNegative));
        return true;
    }
}
