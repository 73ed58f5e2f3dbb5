using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Engine.IO;

namespace Engine.Training.Checkpoints;

/// <summary>One saved tensor: where its bytes are is implied by the order of the list.</summary>
public sealed record TensorEntry(string Name, DType DType, int Rows, int Cols)
{
    public long Bytes => (long)Rows * Cols * DType.SizeInBytes();
}

/// <summary>What a checkpoint says about itself; the JSON header of the file.</summary>
public sealed record CheckpointHeader(int Format, string EngineVersion, string Model, string Dataset, string DatasetFingerprint,
    int Epoch, DateTime SavedUtc, RunConfig Config, Dictionary<string, JsonElement> Values, List<TensorEntry> Tensors);

/// <summary>
/// A training state on disk, in one file: the magic <c>SEACKPT\n</c>, a little-endian int32 header length, the header
/// (<see cref="CheckpointHeader"/>, UTF-8 JSON), every tensor's raw little-endian elements in the header's order, and
/// the SHA-256 of all that. Written to a temporary name and renamed; refused when the checksum, the format, the engine
/// version, the model or the dataset do not match.
/// </summary>
public sealed class Checkpoint
{
    public const int FormatVersion = 1;
    private static readonly byte[] Magic = "SEACKPT\n"u8.ToArray();

    /// <summary>The engine version a checkpoint is bound to (the assemblies' version).</summary>
    public static string EngineVersion { get; } = typeof(Tensor).Assembly.GetName().Version!.ToString(3);

    private readonly byte[] file;
    private readonly Dictionary<string, (TensorEntry Entry, long Offset)> tensors = [];

    private Checkpoint(string path, CheckpointHeader header, byte[] file, long payloadStart)
    {
        Path = path;
        Header = header;
        this.file = file;
        long offset = payloadStart;
        foreach (var t in header.Tensors)
        {
            tensors[t.Name] = (t, offset);
            offset += t.Bytes;
        }
        if (offset != file.Length - SHA256.HashSizeInBytes)
            throw new CheckpointException($"{path} is corrupted: its tensors do not fill the file");
    }

    public string Path { get; }
    public CheckpointHeader Header { get; }

    /// <summary>Writes what <paramref name="walk"/> shows (through a saving <see cref="IStateVisitor"/>) to <paramref name="path"/>.</summary>
    public static void Save(string path, string model, string dataset, string fingerprint, int epoch, RunConfig config, Action<IStateVisitor> walk)
    {
        var writer = new Writer();
        walk(writer);
        var header = new CheckpointHeader(FormatVersion, EngineVersion, model, dataset, fingerprint, epoch, DateTime.UtcNow, config,
            writer.Values, writer.Tensors.Select(t => t.Entry).ToList());
        AtomicFile.Write(path, stream =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Put(ReadOnlySpan<byte> bytes)
            {
                hash.AppendData(bytes);
                stream.Write(bytes);
            }
            var json = JsonSerializer.SerializeToUtf8Bytes(header, TrainingJson.Compact);
            Put(Magic);
            Put(BitConverter.GetBytes(json.Length));
            Put(json);
            foreach (var (entry, tensor) in writer.Tensors)
                switch (entry.DType)
                {
                    case DType.Float32: Put(MemoryMarshal.AsBytes(tensor.ToArray<float>().AsSpan())); break;
                    case DType.Float64: Put(MemoryMarshal.AsBytes(tensor.ToArray<double>().AsSpan())); break;
                    default: Put(MemoryMarshal.AsBytes(tensor.ToArray<int>().AsSpan())); break;
                }
            stream.Write(hash.GetHashAndReset());
        });
    }

    /// <summary>Reads and verifies a checkpoint file (checksum, format, engine version).</summary>
    public static Checkpoint Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no checkpoint at {path}", path);
        var bytes = File.ReadAllBytes(path);
        int hashSize = SHA256.HashSizeInBytes;
        if (bytes.Length < Magic.Length + 4 + hashSize || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new CheckpointException($"{path} is not a sea checkpoint (it does not start with the checkpoint signature)");
        if (!SHA256.HashData(bytes.AsSpan(0, bytes.Length - hashSize)).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - hashSize)))
            throw new CheckpointException($"{path} is corrupted: its checksum does not match its contents (truncated or modified?)");

        int headerLength = BitConverter.ToInt32(bytes, Magic.Length);
        int headerStart = Magic.Length + 4;
        if (headerLength <= 0 || headerStart + (long)headerLength > bytes.Length - hashSize)
            throw new CheckpointException($"{path} is corrupted: its header length {headerLength} does not fit the file");
        CheckpointHeader header;
        try
        {
            header = JsonSerializer.Deserialize<CheckpointHeader>(bytes.AsSpan(headerStart, headerLength), TrainingJson.Compact)
                     ?? throw new JsonException("empty header");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path} has an unreadable header: {e.Message}");
        }
        if (header.Format != FormatVersion)
            throw new CheckpointException($"{path} has checkpoint format {header.Format}; this engine reads format {FormatVersion}");
        if (header.EngineVersion != EngineVersion)
            throw new CheckpointException($"{path} was written by engine version {header.EngineVersion}; this is {EngineVersion}, " +
                                          "whose training state may differ: train again, or use engine " + header.EngineVersion);
        return new Checkpoint(path, header, bytes, headerStart + headerLength);
    }

    /// <summary>Refuses a checkpoint of another model or of another dataset than the one given.</summary>
    public void CheckMatches(string model, string dataset, string fingerprint)
    {
        if (Header.Model != model)
            throw new CheckpointException($"{Path} is a checkpoint of model '{Header.Model}', not '{model}'");
        if (Header.DatasetFingerprint != fingerprint)
            throw new CheckpointException($"{Path} was trained on dataset '{Header.Dataset}' (fingerprint {Header.DatasetFingerprint}), " +
                                          $"not on this '{dataset}' (fingerprint {fingerprint}): its interactions or features differ");
    }

    /// <summary>Overwrites the state <paramref name="walk"/> shows with the saved one; every saved entry must be used.</summary>
    public void Restore(Action<IStateVisitor> walk)
    {
        var reader = new Reader(this);
        walk(reader);
        var unused = Header.Values.Keys.Concat(tensors.Keys).Except(reader.Used).ToList();
        if (unused.Count > 0)
            throw new CheckpointException($"{Path} holds state this model does not have: {string.Join(", ", unused.Take(5))}");
    }

    private sealed class Writer : IStateVisitor
    {
        public readonly Dictionary<string, JsonElement> Values = [];
        public readonly List<(TensorEntry Entry, Tensor Tensor)> Tensors = [];
        private readonly HashSet<string> names = [];

        public void Tensor(string name, Tensor tensor)
        {
            Claim(name);
            Tensors.Add((new TensorEntry(name, tensor.DType, tensor.Rows, tensor.Cols), tensor));
        }

        public T Value<T>(string name, T value)
        {
            Claim(name);
            Values[name] = JsonSerializer.SerializeToElement(value, TrainingJson.Compact);
            return value;
        }

        private void Claim(string name)
        {
            if (!names.Add(name)) throw new InvalidOperationException($"two pieces of training state are both called '{name}'");
        }
    }

    private sealed class Reader(Checkpoint checkpoint) : IStateVisitor
    {
        public readonly HashSet<string> Used = [];

        public void Tensor(string name, Tensor tensor)
        {
            if (!checkpoint.tensors.TryGetValue(name, out var saved))
                throw new CheckpointException($"{checkpoint.Path} has no tensor '{name}' (saved by another model or configuration?)");
            var e = saved.Entry;
            if (e.DType != tensor.DType || e.Rows != tensor.Rows || e.Cols != tensor.Cols)
                throw new CheckpointException($"{checkpoint.Path}: tensor '{name}' is {e.Rows}×{e.Cols} {e.DType.Name()}, " +
                                              $"the model's is {tensor.Shape} {tensor.DType.Name()}");
            var bytes = checkpoint.file.AsSpan((int)saved.Offset, (int)e.Bytes);
            switch (e.DType)
            {
                case DType.Float32: tensor.Backend.Upload(MemoryMarshal.Cast<byte, float>(bytes), tensor); break;
                case DType.Float64: tensor.Backend.Upload(MemoryMarshal.Cast<byte, double>(bytes), tensor); break;
                default: tensor.Backend.Upload(MemoryMarshal.Cast<byte, int>(bytes), tensor); break;
            }
            Used.Add(name);
        }

        public T Value<T>(string name, T value)
        {
            if (!checkpoint.Header.Values.TryGetValue(name, out var saved))
                throw new CheckpointException($"{checkpoint.Path} has no value '{name}' (saved by another model or configuration?)");
            Used.Add(name);
            try
            {
                return saved.Deserialize<T>(TrainingJson.Compact)!;
            }
            catch (JsonException e)
            {
                throw new CheckpointException($"{checkpoint.Path}: value '{name}' cannot be read: {e.Message}");
            }
        }
    }
}
