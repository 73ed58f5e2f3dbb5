namespace Engine.Training.Data;

/// <summary>
/// A dense float32 matrix read from (or written to) a .npy file, row-major: row r is item r's feature vector.
/// Equality is by reference on <see cref="Data"/>, as for any record holding an array.
/// </summary>
public sealed record FeatureMatrix(int Rows, int Cols, float[] Data)
{
    // Properties are get-only so that `with` cannot produce a matrix whose data no longer matches its shape.
    public int Rows { get; } = Rows >= 0 ? Rows : throw new ArgumentOutOfRangeException(nameof(Rows), Rows, "must be ≥ 0");
    public int Cols { get; } = Cols >= 0 ? Cols : throw new ArgumentOutOfRangeException(nameof(Cols), Cols, "must be ≥ 0");

    public float[] Data { get; } = Data.Length == (long)Rows * Cols
        ? Data
        : throw new ArgumentException($"{Rows}×{Cols} needs {(long)Rows * Cols} values but {Data.Length} were given", nameof(Data));

    public float this[int row, int col] =>
        (uint)row < (uint)Rows && (uint)col < (uint)Cols
            ? Data[row * Cols + col]
            : throw new IndexOutOfRangeException($"({row}, {col}) is outside {Rows}×{Cols}");

    /// <summary>The matrix as a tensor on <paramref name="backend"/> (values converted to <paramref name="dtype"/>).</summary>
    public Tensor ToTensor(Backend backend, DType dtype)
    {
        // Upload converts on the way, so float64 needs no widened host copy.
        var tensor = backend.Allocate(Rows, Cols, dtype);
        backend.Upload<float>(Data, tensor);
        return tensor;
    }

    public ReadOnlySpan<float> Row(int row) =>
        (uint)row < (uint)Rows
            ? Data.AsSpan(row * Cols, Cols)
            : throw new ArgumentOutOfRangeException(nameof(row), row, $"must be in 0..{Rows - 1}");
}
