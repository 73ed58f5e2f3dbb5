using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Engine.Cpu;

public sealed partial class CpuBackend
{
    protected override void UnaryCore(UnaryOp op, Tensor x, Tensor y, double alpha)
    {
        if (x.DType == DType.Float32) Unary(op, Data<float>(x), Data<float>(y), (float)alpha);
        else Unary(op, Data<double>(x), Data<double>(y), alpha);
    }

    private static void Unary<T>(UnaryOp op, T[] xs, T[] ys, T alpha) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ForChunks(xs.Length, (start, count) =>
        {
            ReadOnlySpan<T> x = xs.AsSpan(start, count);
            Span<T> y = ys.AsSpan(start, count);
            switch (op)
            {
                case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
                case UnaryOp.Scale: TensorPrimitives.Multiply(x, alpha, y); break;
                case UnaryOp.AddScalar: TensorPrimitives.Add(x, alpha, y); break;
                case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
                case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
                case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
                case UnaryOp.Tanh:
                    // The vectorised library tanh loses relative accuracy near 0: recompute those entries exactly.
                    TensorPrimitives.Tanh(x, y);
                    T nearZero = T.CreateTruncating(0.25);
                    for (int i = 0; i < x.Length; i++)
                        if (T.Abs(x[i]) < nearZero) y[i] = T.Tanh(x[i]);
                    break;
                case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
                case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
                case UnaryOp.Relu: TensorPrimitives.Max(x, T.Zero, y); break;
                case UnaryOp.LeakyRelu: LeakyRelu(x, x, alpha, y, add: false); break;
                case UnaryOp.LogSigmoid:
                    for (int i = 0; i < x.Length; i++) y[i] = LogSigmoid(x[i]);
                    break;
                default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
            }
        });
    }

    /// <summary>
    /// y = (x > 0 ? v : α·v), or y += that: the leaky ReLU (v = x) and its backward (v = dy), branch-free, since signs
    /// are random and a per-element branch would mispredict half the time.
    /// </summary>
    private static void LeakyRelu<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> v, T alpha, Span<T> y, bool add) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create(alpha);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var vi = Vector256.Create(v.Slice(i, Vector256<T>.Count));
                var r = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Create(x.Slice(i, Vector256<T>.Count)), Vector256<T>.Zero), vi, a * vi);
                (add ? Vector256.Create((ReadOnlySpan<T>)y.Slice(i, Vector256<T>.Count)) + r : r).CopyTo(y.Slice(i, Vector256<T>.Count));
            }
        }
        for (; i < x.Length; i++)
        {
            T r = x[i] > T.Zero ? v[i] : alpha * v[i];
            y[i] = add ? y[i] + r : r;
        }
    }

    /// <summary>log σ(x) = −log(1 + e^−x), arranged so that the exponential never overflows.</summary>
    private static T LogSigmoid<T>(T x) where T : IFloatingPointIeee754<T> =>
        x >= T.Zero ? -T.LogP1(T.Exp(-x)) : x - T.LogP1(T.Exp(x));

    /// <summary>σ(x) without overflow for large |x|.</summary>
    private static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T>
    {
        if (x >= T.Zero) return T.One / (T.One + T.Exp(-x));
        T e = T.Exp(x);
        return e / (T.One + e);
    }

    protected override void UnaryBackwardCore(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, double alpha)
    {
        if (x.DType == DType.Float32) UnaryBackward(op, Data<float>(x), Data<float>(y), Data<float>(dy), Data<float>(dx), (float)alpha);
        else UnaryBackward(op, Data<double>(x), Data<double>(y), Data<double>(dy), Data<double>(dx), alpha);
    }

    private static void UnaryBackward<T>(UnaryOp op, T[] x, T[] y, T[] dy, T[] dx, T alpha) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (op == UnaryOp.Relu && Vector256.IsHardwareAccelerated)
        {
            // Branch-free: signs are random, so a per-element branch would mispredict half the time.
            ForChunks(x.Length, (start, count) =>
            {
                int i = start, end = start + count;
                for (; i <= end - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var positive = Vector256.GreaterThan(Vector256.LoadUnsafe(ref x[0], (nuint)i), Vector256<T>.Zero);
                    var add = Vector256.ConditionalSelect(positive, Vector256.LoadUnsafe(ref dy[0], (nuint)i), Vector256<T>.Zero);
                    (Vector256.LoadUnsafe(ref dx[0], (nuint)i) + add).StoreUnsafe(ref dx[0], (nuint)i);
                }
                for (; i < end; i++) if (x[i] > T.Zero) dx[i] += dy[i];
            });
            return;
        }
        T two = T.One + T.One;
        // One loop per op (the switch outside the loop), vectorised through TensorPrimitives where it has the shape.
        ForChunks(x.Length, (start, count) =>
        {
            ReadOnlySpan<T> xs = x.AsSpan(start, count), ys = y.AsSpan(start, count), g = dy.AsSpan(start, count);
            Span<T> d = dx.AsSpan(start, count);
            switch (op)
            {
                case UnaryOp.Neg: TensorPrimitives.Subtract(d, g, d); break;
                case UnaryOp.Scale: TensorPrimitives.MultiplyAdd(g, alpha, d, d); break;
                case UnaryOp.AddScalar: TensorPrimitives.Add(d, g, d); break;
                case UnaryOp.Exp: TensorPrimitives.FusedMultiplyAdd(g, ys, d, d); break;
                case UnaryOp.Log: for (int i = 0; i < d.Length; i++) d[i] += g[i] / xs[i]; break;
                case UnaryOp.Sigmoid: for (int i = 0; i < d.Length; i++) d[i] += g[i] * ys[i] * (T.One - ys[i]); break;
                case UnaryOp.LogSigmoid: for (int i = 0; i < d.Length; i++) d[i] += g[i] * Sigmoid(-xs[i]); break;
                case UnaryOp.Tanh: for (int i = 0; i < d.Length; i++) d[i] += g[i] * (T.One - ys[i] * ys[i]); break;
                case UnaryOp.Relu: for (int i = 0; i < d.Length; i++) d[i] += xs[i] > T.Zero ? g[i] : T.Zero; break;
                case UnaryOp.LeakyRelu: LeakyRelu(xs, g, alpha, d, add: true); break;
                case UnaryOp.Square: for (int i = 0; i < d.Length; i++) d[i] += two * xs[i] * g[i]; break;
                case UnaryOp.Sqrt: for (int i = 0; i < d.Length; i++) d[i] += g[i] / (two * ys[i]); break;
                default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
            }
        });
    }

    protected override void BinaryCore(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        if (a.DType == DType.Float32) Binary(op, a, b, y, Data<float>(a), Data<float>(b), Data<float>(y));
        else Binary(op, a, b, y, Data<double>(a), Data<double>(b), Data<double>(y));
    }

    private static void Binary<T>(BinaryOp op, Tensor at, Tensor bt, Tensor yt, T[] a, T[] b, T[] y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (at.SameShape(bt))
        {
            // No broadcasting: one vectorised call per chunk rather than one per (possibly short) row.
            ForChunks(a.Length, (start, count) => BinarySpan(op, a.AsSpan(start, count), b.AsSpan(start, count), y.AsSpan(start, count)));
            return;
        }
        int cols = at.Cols;
        var bShape = new Broadcast(at, bt);
        ForRows(at.Rows, cols, r =>
        {
            ReadOnlySpan<T> ar = a.AsSpan(r * cols, cols);
            Span<T> yr = y.AsSpan(r * cols, cols);
            if (bShape.IsScalarPerRow)
            {
                T s = b[bShape.Offset(r)];
                switch (op)
                {
                    case BinaryOp.Add: TensorPrimitives.Add(ar, s, yr); break;
                    case BinaryOp.Sub: TensorPrimitives.Subtract(ar, s, yr); break;
                    case BinaryOp.Mul: TensorPrimitives.Multiply(ar, s, yr); break;
                    case BinaryOp.Div: TensorPrimitives.Divide(ar, s, yr); break;
                }
            }
            else
            {
                BinarySpan(op, ar, b.AsSpan(bShape.Offset(r), cols), yr);
            }
        });
    }

    private static void BinarySpan<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    protected override void BinaryBackwardCore(BinaryOp op, Tensor a, Tensor b, Tensor dy, Tensor? da, Tensor? db)
    {
        if (a.DType == DType.Float32) BinaryBackward<float>(op, a, b, dy, da, db);
        else BinaryBackward<double>(op, a, b, dy, da, db);
    }

    private static void BinaryBackward<T>(BinaryOp op, Tensor at, Tensor bt, Tensor dyt, Tensor? dat, Tensor? dbt)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = at.Rows, cols = at.Cols;
        var bShape = new Broadcast(at, bt);
        T[] a = Data<T>(at), b = Data<T>(bt), dy = Data<T>(dyt);

        if (dat is not null && at.SameShape(bt))
        {
            T[] da = Data<T>(dat);
            ForChunks(a.Length, (start, count) =>
            {
                ReadOnlySpan<T> dyc = dy.AsSpan(start, count), bc = b.AsSpan(start, count);
                Span<T> dac = da.AsSpan(start, count);
                switch (op)
                {
                    case BinaryOp.Add or BinaryOp.Sub: TensorPrimitives.Add(dac, dyc, dac); break;
                    case BinaryOp.Mul: TensorPrimitives.FusedMultiplyAdd(dyc, bc, dac, dac); break;
                    default: for (int i = 0; i < count; i++) dac[i] += dyc[i] / bc[i]; break;
                }
            });
        }
        else if (dat is not null)
        {
            T[] da = Data<T>(dat);
            ForRows(rows, cols, r =>
            {
                for (int j = 0; j < cols; j++)
                {
                    int i = r * cols + j;
                    T bij = b[bShape.Offset(r) + (bShape.IsScalarPerRow ? 0 : j)];
                    da[i] += op switch
                    {
                        BinaryOp.Add or BinaryOp.Sub => dy[i],
                        BinaryOp.Mul => dy[i] * bij,
                        _ => dy[i] / bij,
                    };
                }
            });
        }

        if (dbt is null) return;
        T[] db = Data<T>(dbt);
        if (at.SameShape(bt))
        {
            ForChunks(a.Length, (start, count) =>
            {
                ReadOnlySpan<T> dyc = dy.AsSpan(start, count), ac = a.AsSpan(start, count), bc = b.AsSpan(start, count);
                Span<T> dbc = db.AsSpan(start, count);
                switch (op)
                {
                    case BinaryOp.Add: TensorPrimitives.Add(dbc, dyc, dbc); break;
                    case BinaryOp.Sub: TensorPrimitives.Subtract(dbc, dyc, dbc); break;
                    case BinaryOp.Mul: TensorPrimitives.FusedMultiplyAdd(dyc, ac, dbc, dbc); break;
                    default: for (int i = 0; i < count; i++) dbc[i] -= dyc[i] * ac[i] / (bc[i] * bc[i]); break;
                }
            });
            return;
        }
        // Each row's contribution to db is formed in a scratch row, then added where b broadcast from. Rows that add
        // into a shared entry of db are added one after another, in row order, so the result is deterministic.
        void RowContribution(int r, Span<T> g)
        {
            for (int j = 0; j < cols; j++)
            {
                int i = r * cols + j;
                T bij = b[bShape.Offset(r) + (bShape.IsScalarPerRow ? 0 : j)];
                g[j] = op switch
                {
                    BinaryOp.Add => dy[i],
                    BinaryOp.Sub => -dy[i],
                    BinaryOp.Mul => dy[i] * a[i],
                    _ => -dy[i] * a[i] / (bij * bij),
                };
            }
        }

        bool sharedAcrossRows = bt.Rows == 1 && rows > 1;
        if (!sharedAcrossRows)
        {
            ForRows(rows, cols, r =>
            {
                var g = ArrayPool<T>.Shared.Rent(cols);
                RowContribution(r, g.AsSpan(0, cols));
                if (bt.Cols == 1) db[r] += SumDeterministic<T>(g.AsSpan(0, cols));
                else TensorPrimitives.Add(db.AsSpan(r * cols, cols), g.AsSpan(0, cols), db.AsSpan(r * cols, cols));
                ArrayPool<T>.Shared.Return(g);
            });
            return;
        }

        var total = new T[bt.Cols];
        if (op is BinaryOp.Add or BinaryOp.Sub && bt.Cols == cols)
        {
            // A bias's gradient: the column sums of dy, rows folded in order.
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(total, dy.AsSpan(r * cols, cols), total);
            if (op == BinaryOp.Sub) TensorPrimitives.Subtract(db, total, db);
            else TensorPrimitives.Add(db, total, db);
            return;
        }
        var scratch = new T[cols];
        for (int r = 0; r < rows; r++)
        {
            RowContribution(r, scratch);
            if (bt.Cols == 1) total[0] += SumDeterministic<T>(scratch);
            else TensorPrimitives.Add(total, scratch, total);
        }
        TensorPrimitives.Add(db, total, db);
    }

    /// <summary>Where row r of a broadcast operand b starts, and whether it is one value for the whole row.</summary>
    private readonly struct Broadcast(Tensor a, Tensor b)
    {
        private readonly bool rowBroadcast = b.Rows == 1 && a.Rows != 1;

        /// <summary>b is m×1 or 1×1: one value per row of a.</summary>
        public bool IsScalarPerRow { get; } = b.Cols == 1 && a.Cols != 1;

        public int Offset(int row) => rowBroadcast ? 0 : row * b.Cols;
    }

    protected override void AddScaledCore(Tensor x, double alpha, Tensor y)
    {
        if (x.DType == DType.Float32) AddScaled(Data<float>(x), (float)alpha, Data<float>(y));
        else AddScaled(Data<double>(x), alpha, Data<double>(y));
    }

    private static void AddScaled<T>(T[] x, T alpha, T[] y) where T : unmanaged, IFloatingPointIeee754<T> =>
        ForChunks(x.Length, (start, count) =>
            TensorPrimitives.MultiplyAdd(x.AsSpan(start, count), alpha, y.AsSpan(start, count), y.AsSpan(start, count)));
}
