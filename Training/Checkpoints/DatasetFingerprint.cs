using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Engine.Training.Data;

namespace Engine.Training.Checkpoints;

/// <summary>
/// A short hash of what a model was trained on: user and item counts, every split's pairs, and the feature matrices
/// the model reads (image and text, the multimodal one, or none). A checkpoint records it so that it is never applied
/// to another dataset.
/// </summary>
public static class DatasetFingerprint
{
    public static string Of(Dataset data, bool includeFeatures, bool includeMultimodal = false)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(MemoryMarshal.AsBytes<int>([data.Users, data.Items]));
        foreach (var split in new[] { data.Train, data.Valid, data.Test })
        {
            hash.AppendData(MemoryMarshal.AsBytes<int>([split.Count]));
            hash.AppendData(MemoryMarshal.AsBytes(split.Users.AsSpan()));
            hash.AppendData(MemoryMarshal.AsBytes(split.Items.AsSpan()));
        }
        // Appended only where read, so a model's fingerprint does not change when files it ignores do.
        var features = (includeFeatures ? new[] { data.Image, data.Text } : []).Concat(includeMultimodal ? [data.Multimodal] : []);
        foreach (var f in features)
        {
            hash.AppendData(MemoryMarshal.AsBytes<int>([f?.Rows ?? -1, f?.Cols ?? -1]));
            if (f is not null) hash.AppendData(MemoryMarshal.AsBytes(f.Data.AsSpan()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16));
    }
}
