using Engine.Cpu;

namespace Engine.Tests;

/// <summary>Wrong shapes, dtypes, backends and disposed tensors are refused with an <see cref="EngineException"/> naming the op and what it was given.</summary>
public class ValidationTests
{
    private readonly Backend b = H.NewBackend();

    private Tensor F64(int rows, int cols) => b.Allocate(rows, cols, DType.Float64);
    private Tensor F32(int rows, int cols) => b.Allocate(rows, cols, DType.Float32);

    // ---------------------------------------------------------------- shapes

    [Fact]
    public void GemmWithMismatchedInnerDimensions()
    {
        H.Throws(() => b.Gemm(false, false, 1, F64(2, 3), F64(4, 5), 0, F64(2, 5)),
            "Gemm", "op(a) is 2×3", "op(b) is 4×5", "c is 2×5", "inner dimensions");
        // Transposes are named, and a wrong c is caught too.
        H.Throws(() => b.Gemm(true, false, 1, F64(3, 2), F64(3, 5), 0, F64(5, 2)),
            "Gemm", "op(a) is 2×3", "a 3×2, transposed", "c is 5×2", "2×5");
    }

    [Fact]
    public void BinaryWithANonBroadcastableOperand()
    {
        H.Throws(() => b.Binary(BinaryOp.Add, F64(3, 2), F64(2, 2), F64(3, 2)), "Add", "b (2×2)", "a (3×2)", "1×2", "3×1");
        H.Throws(() => b.Binary(BinaryOp.Mul, F64(3, 2), F64(1, 3), F64(3, 2)), "Mul", "1×3", "3×2");
        H.Throws(() => b.BinaryBackward(BinaryOp.Div, F64(3, 2), F64(3, 3), F64(3, 2), null, null), "DivBackward", "3×3", "3×2");
        // da / db shaped unlike a / b.
        H.Throws(() => b.BinaryBackward(BinaryOp.Sub, F64(3, 2), F64(1, 2), F64(3, 2), null, F64(3, 2)), "SubBackward", "1×2", "3×2");
    }

    [Fact]
    public void ElementwiseOpsWithDifferentShapes()
    {
        H.Throws(() => b.Unary(UnaryOp.Exp, F64(2, 3), F64(3, 2)), "Exp", "shapes differ", "2×3", "3×2");
        H.Throws(() => b.UnaryBackward(UnaryOp.Tanh, F64(2, 3), F64(2, 3), F64(2, 3), F64(2, 2)), "TanhBackward", "2×2");
        H.Throws(() => b.Binary(BinaryOp.Sub, F64(2, 3), F64(2, 3), F64(2, 2)), "Sub", "2×3", "2×2");
        H.Throws(() => b.AddScaled(F64(4, 1), 1, F64(1, 4)), "AddScaled", "4×1", "1×4");
        H.Throws(() => b.Copy(F64(2, 2), F64(4, 1)), "Copy", "2×2", "4×1");
    }

    [Fact]
    public void ReductionsWithWrongOutputShapes()
    {
        H.Throws(() => b.Reduce(ReduceOp.Sum, F64(2, 3), F64(3, 1), 0), "Sum", "reducing 2×3 over dim 0 gives 1×3", "output is 3×1");
        H.Throws(() => b.Reduce(ReduceOp.Mean, F64(2, 3), F64(1, 3), 1), "Mean", "over dim 1 gives 2×1", "1×3");
        H.Throws(() => b.Reduce(ReduceOp.Max, F64(2, 3), F64(1, 3), null), "Max", "over all gives 1×1", "1×3");
        H.Throws(() => b.Reduce(ReduceOp.Sum, F64(2, 3), F64(1, 1), 2), "Sum", "dim must be null, 0 or 1", "2");
        H.Throws(() => b.Reduce(ReduceOp.Max, F64(0, 3), F64(1, 1)), "Max", "empty");
        H.Throws(() => b.LogSumExpRows(F64(2, 3), F64(1, 2)), "LogSumExpRows", "2×3", "1×2");
        H.Throws(() => b.LogSumExpRows(F64(2, 0), F64(2, 1)), "LogSumExpRows", "2×0", "empty");
        var y = F64(1, 3);
        H.Throws(() => b.ReduceBackward(ReduceOp.Sum, F64(2, 3), y, F64(3, 1), F64(2, 3), 0), "SumBackward", "1×3", "3×1");
    }

    [Fact]
    public void SpmmWithMismatchedShapes()
    {
        using var a = CsrMatrix.FromDense(b, [1, 0, 0, 2, 0, 3], 2, 3, DType.Float64);
        H.Throws(() => b.Spmm(a, F64(2, 4), 0, F64(2, 4)), "Spmm", "a is 2×3 sparse", "x is 2×4", "y is 2×4", "x 3×n");
        H.Throws(() => b.Spmm(a, F64(3, 4), 0, F64(2, 5)), "Spmm", "y is 2×5", "y 2×n");
        H.Throws(() => b.Spmm(a, F32(3, 4), 0, F32(2, 4)), "Spmm", "dtypes differ", "float64", "float32");
    }

    [Fact]
    public void RowOpsWithMismatchedShapes()
    {
        H.Throws(() => b.GatherRows(F64(4, 2), b.Index(0, 1), F64(2, 3)), "GatherRows", "table 4×2", "index 2×1", "rows 2×3", "expected rows 2×2");
        H.Throws(() => b.ScatterAddRows(F64(3, 2), b.Index(0, 1), F64(4, 2)), "ScatterAddRows", "rows 3×2", "expected rows 2×2");
        H.Throws(() => b.GatherRows(F64(4, 2), F64(2, 1), F64(2, 2)), "GatherRows", "int32 k×1", "float64 2×1");
        H.Throws(() => b.GatherRows(F64(4, 2), b.FromArray(new[] { 0, 1 }, 1, 2), F64(1, 2)), "GatherRows", "int32 1×2");
        H.Throws(() => b.RowL2Normalize(F64(2, 3), F64(3, 2)), "RowL2Normalize", "2×3", "3×2");
        H.Throws(() => b.SoftmaxRows(F64(2, 3), F64(2, 2), log: true), "LogSoftmaxRows", "2×3", "2×2");
        H.Throws(() => b.SoftmaxRows(F64(2, 3), F64(2, 2), log: false), "SoftmaxRows", "2×3", "2×2");
    }

    [Fact]
    public void BatchNormWithWrongStatisticShapes()
    {
        H.Throws(() => b.BatchNorm(F64(4, 3), F64(1, 2), F64(1, 3), F64(4, 3), F64(1, 3), F64(1, 3)), "BatchNorm", "x is 4×3", "1×3", "got 1×2");
        H.Throws(() => b.BatchNorm(F64(4, 3), F64(1, 3), F64(1, 3), F64(4, 3), F64(3, 1), F64(1, 3)), "BatchNorm", "got 3×1");
        H.Throws(() => b.BatchNorm(F64(0, 3), F64(1, 3), F64(1, 3), F64(0, 3), F64(1, 3), F64(1, 3)), "BatchNorm", "empty batch");
    }

    [Fact]
    public void HostTransfersWithWrongLengthsOrTypes()
    {
        H.Throws(() => b.FromArray(new double[5], 2, 3), "FromArray", "5 elements", "2×3");
        H.Throws(() => b.FromDoubles(new double[7], 2, 3, DType.Float32), "FromDoubles", "7 elements", "2×3");
        H.Throws(() => b.Upload<double>(new double[4], F32(2, 3)), "Upload", "4 host elements", "2×3");
        H.Throws(() => b.Download<double>(F64(2, 3), new double[5]), "Download", "5 host elements", "2×3");
        H.Throws(() => b.Upload<int>(new int[6], F32(2, 3)), "Upload", "cannot convert int32 to float32");
        H.Throws(() => b.Download<int>(F64(2, 3), new int[6]), "Download", "cannot convert float64 to int32");
        H.Throws(() => b.Allocate(-1, 3, DType.Float32), "Allocate", "-1×3");
    }

    // ---------------------------------------------------------------- dtypes

    [Fact]
    public void IntegerTensorsAreRefusedByFloatingOps()
    {
        var ints = b.Allocate(3, 1, DType.Int32);
        H.Throws(() => b.Unary(UnaryOp.Exp, ints, ints), "Exp", "float32 or float64", "int32 3×1");
        H.Throws(() => b.Binary(BinaryOp.Add, ints, ints, ints), "Add", "int32 3×1");
        H.Throws(() => b.Reduce(ReduceOp.Sum, ints, b.Allocate(1, 1, DType.Int32)), "Sum", "int32 3×1");
        H.Throws(() => b.AddScaled(ints, 1, ints), "AddScaled", "int32 3×1");
        H.Throws(() => b.CopyBlock(ints, 0, 0, ints, 0, 0, 1, 1, false), "CopyBlock", "int32 3×1");
        H.Throws(() => b.GatherRows(ints, b.Index(0), b.Allocate(1, 1, DType.Int32)), "GatherRows", "int32 3×1");
    }

    [Fact]
    public void Float32MixedWithFloat64IsRefused()
    {
        H.Throws(() => b.Binary(BinaryOp.Add, F32(2, 2), F64(2, 2), F32(2, 2)), "Add", "dtypes differ", "2×2 float32", "2×2 float64");
        H.Throws(() => b.Unary(UnaryOp.Relu, F64(2, 3), F32(2, 3)), "Relu", "dtypes differ", "2×3 float64", "2×3 float32");
        H.Throws(() => b.Gemm(false, false, 1, F32(2, 2), F32(2, 2), 0, F64(2, 2)), "Gemm", "dtypes differ", "float64");
        H.Throws(() => b.Copy(F32(2, 2), F64(2, 2)), "Copy", "dtypes differ");
        H.Throws(() => b.BatchNorm(F32(4, 3), F32(1, 3), F64(1, 3), F32(4, 3), F32(1, 3), F32(1, 3)), "BatchNorm", "dtypes differ", "1×3 float64");
        H.Throws(() => b.ScatterAddRows(F32(2, 2), b.Index(0, 1), F64(3, 2)), "ScatterAddRows", "dtypes differ", "3×2 float64", "2×2 float32");
    }

    // ---------------------------------------------------------------- backends and lifetimes

    [Fact]
    public void TensorsOfAnotherBackendAreRefused()
    {
        var other = new CpuBackend(GemmProvider.Managed);
        var foreign = other.Allocate(2, 2, DType.Float64);
        H.Throws(() => b.Unary(UnaryOp.Neg, foreign, F64(2, 2)), "Neg", "a 2×2 tensor is on cpu", "this op runs on cpu");
        H.Throws(() => b.Binary(BinaryOp.Mul, F64(2, 2), foreign, F64(2, 2)), "Mul", "2×2 tensor is on");
        H.Throws(() => b.Copy(foreign, F64(2, 2)), "Copy", "2×2 tensor is on");
        H.Throws(() => b.Fill(foreign, 1), "Fill", "2×2 tensor is on");
        H.Throws(() => b.Download<double>(foreign, new double[4]), "Download", "2×2 tensor is on");
        H.Throws(() => b.Gemm(false, false, 1, F64(2, 2), foreign, 0, F64(2, 2)), "Gemm", "2×2 tensor is on");
        using var sparse = CsrMatrix.FromDense(other, [1, 0, 0, 1], 2, 2, DType.Float64);
        H.Throws(() => b.Spmm(sparse, F64(2, 2), 0, F64(2, 2)), "Spmm", "tensor is on");
        // The tensor still works on its own backend.
        other.Fill(foreign, 3);
        Assert.Equal([3, 3, 3, 3], foreign.D());
    }

    [Fact]
    public void DisposedTensorsAreRefused()
    {
        var t = F64(2, 3);
        t.Dispose();
        Assert.True(t.IsDisposed);
        H.Throws(() => b.Unary(UnaryOp.Exp, t, F64(2, 3)), "Exp", "2×3 tensor was used after it was disposed");
        H.Throws(() => b.Fill(t, 0), "Fill", "2×3", "disposed");
        H.Throws(() => t.ToArray<double>(), "Download", "2×3", "disposed");
        H.Throws(() => t.Clone(), "Copy", "2×3", "disposed");
        H.Throws(() => b.Reduce(ReduceOp.Sum, t, F64(1, 1)), "Sum", "disposed");
        t.Dispose(); // disposing twice is harmless
        Assert.True(t.IsDisposed);
    }

    [Fact]
    public void DisposedSparseMatricesAreRefused()
    {
        var a = CsrMatrix.FromDense(b, [1, 0, 0, 1], 2, 2, DType.Float32);
        a.Dispose();
        H.Throws(() => b.Spmm(a, F32(2, 2), 0, F32(2, 2)), "Spmm", "disposed");
    }

    [Fact]
    public void TheExceptionCarriesTheOpName()
    {
        var e = Assert.Throws<EngineException>(() => b.Unary(UnaryOp.Sqrt, F64(1, 2), F64(2, 1)));
        Assert.Equal("Sqrt", e.Op);
        Assert.IsAssignableFrom<ArgumentException>(e);
        Assert.Equal("Sqrt: shapes differ: 1×2, 2×1", e.Message);
    }
}
