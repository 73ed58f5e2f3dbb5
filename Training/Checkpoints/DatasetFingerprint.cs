using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Engine.Training.Data;

namespace Engine.Training.Checkpoints;

/// <summary>
/// A short hash of what a model was trained on: user and item counts, every split's pairs, and (for models that read
/// them) the feature matrices. A checkpoint records it so that it is never applied to another dataset.
/// </summary>
public static class DatasetFingerprint
{
    public static string Of(Dataset data, bool includeFeatures)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(MemoryMarshal.AsBytes<int>([data.Users, data.Items]));
        foreach (var split in new[] { data.Train, data.Valid, data.Test })
        {
            hash.AppendData(MemoryMarshal.AsBytes<int>([split.Count]));
            hash.AppendData(MemoryMarshal.AsBytes(split.Users.AsSpan()));
            hash.AppendData(MemoryMarshal.AsBytes(split.Items.AsSpan()));
        }
        if (includeFeatures)
            foreach (var features in new[] { data.Image, data.Text })
            {
                hash.AppendData(MemoryMarshal.AsBytes<int>([features?.Rows ?? -1, features?.Cols ?? -1]));
                if (features is not null) hash.AppendData(MemoryMarshal.AsBytes(features.Data.AsSpan()));
            }
        return Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16));
    }
}
