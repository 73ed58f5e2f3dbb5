namespace Engine;

/// <summary>
/// A dense row-major matrix of <see cref="Rows"/> × <see cref="Cols"/> elements of one <see cref="DType"/>, living on
/// one backend's device. Every tensor is a matrix: a scalar is 1×1, a bias or a row of statistics is 1×n, a per-row
/// value is n×1. Recommenders need no more ranks, and two keep every kernel simple.
/// </summary>
public sealed class Tensor : IDisposable
{
    internal Tensor(Backend backend, int rows, int cols, DType dtype, TensorStorage storage)
    {
        Backend = backend;
        Rows = rows;
        Cols = cols;
        DType = dtype;
        Storage = storage;
    }

    public Backend Backend { get; }
    public Device Device => Backend.Device;
    public int Rows { get; }
    public int Cols { get; }
    public DType DType { get; }
    public long Length => (long)Rows * Cols;
    public string Shape => $"{Rows}×{Cols}";

    /// <summary>The backend's memory behind this tensor; only its backend looks inside.</summary>
    public TensorStorage Storage { get; }

    public bool IsDisposed => Storage.IsDisposed;

    public bool SameShape(Tensor other) => Rows == other.Rows && Cols == other.Cols;

    /// <summary>A copy of the elements on the host, converted to <typeparamref name="T"/> if the dtype differs.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var result = new T[Length];
        Backend.Download(this, result.AsSpan());
        return result;
    }

    /// <summary>The value of a 1×1 tensor, read on the host (a synchronisation point on a GPU).</summary>
    public double Item()
    {
        if (Length != 1)
            throw new EngineException(nameof(Item), $"expected a 1×1 tensor, got {Shape}");
        return ToArray<double>()[0];
    }

    /// <summary>A new tensor on the same backend with the same contents.</summary>
    public Tensor Clone()
    {
        var copy = Backend.Allocate(Rows, Cols, DType);
        Backend.Copy(this, copy);
        return copy;
    }

    /// <summary>
    /// The same elements seen as <paramref name="rows"/> × <paramref name="cols"/> (row-major order unchanged). The view
    /// shares this tensor's storage: it is never disposed on its own, and lives only as long as this tensor.
    /// </summary>
    public Tensor View(int rows, int cols)
    {
        if (rows < 0 || cols < 0 || (long)rows * cols != Length)
            throw new EngineException(nameof(View), $"a {Shape} tensor cannot be seen as {rows}×{cols}");
        return new Tensor(Backend, rows, cols, DType, Storage);
    }

    public void Dispose() => Storage.Dispose();

    public override string ToString() => $"Tensor({Shape}, {DType.Name()}, {Device})";
}

/// <summary>A backend's memory for one tensor. Freed deterministically by <see cref="Dispose"/>.</summary>
public abstract class TensorStorage : IDisposable
{
    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Free();
        GC.SuppressFinalize(this);
    }

    protected abstract void Free();
}
