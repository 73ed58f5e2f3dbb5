namespace Engine.Fused;

/// <summary>
/// Scratch tensors of one dtype, freed together: the composed references favour plain steps over saving memory.
/// <see cref="Next()"/> makes one shaped like <c>like</c>.
/// </summary>
internal sealed class Temporaries(Backend b, Tensor like) : IDisposable
{
    private readonly List<Tensor> made = [];

    public Tensor Next() => Next(like.Rows, like.Cols);

    public Tensor Next(int rows, int cols)
    {
        var t = b.Allocate(rows, cols, like.DType);
        made.Add(t);
        return t;
    }

    public void Dispose() => made.ForEach(t => t.Dispose());
}
