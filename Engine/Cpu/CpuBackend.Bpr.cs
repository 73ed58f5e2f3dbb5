using System.Numerics;

namespace Engine.Cpu;

public sealed partial class CpuBackend
{
    protected override bool BprRowsCore(Tensor positive, Tensor negative, Tensor loss)
    {
        if (positive.DType == DType.Float32) BprRows(Data<float>(positive), Data<float>(negative), Data<float>(loss));
        else BprRows(Data<double>(positive), Data<double>(negative), Data<double>(loss));
        return true;
    }

    private static void BprRows<T>(T[] positive, T[] negative, T[] loss) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < loss.Length; i++) loss[i] = -LogSigmoid(positive[i] - negative[i]);
    }

    protected override bool BprRowsBackwardCore(Tensor positive, Tensor negative, double scale, Tensor? dPositive, Tensor? dNegative)
    {
        if (positive.DType == DType.Float32)
            BprRowsBackward(Data<float>(positive), Data<float>(negative), (float)scale, OrNull<float>(dPositive), OrNull<float>(dNegative));
        else
            BprRowsBackward(Data<double>(positive), Data<double>(negative), scale, OrNull<double>(dPositive), OrNull<double>(dNegative));
        return true;
    }

    private static void BprRowsBackward<T>(T[] positive, T[] negative, T scale, T[]? dPositive, T[]? dNegative) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < positive.Length; i++)
        {
            T t = scale * Sigmoid(negative[i] - positive[i]);
            if (dPositive is not null) dPositive[i] -= t;
            if (dNegative is not null) dNegative[i] += t;
        }
    }
}
