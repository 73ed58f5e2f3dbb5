namespace Engine.IO;

/// <summary>Where the engine keeps what it may recompute but would rather not: $SEA_CACHE, else ~/.cache/sea.</summary>
public static class CacheFolder
{
    public static string Root =>
        Environment.GetEnvironmentVariable("SEA_CACHE") is { Length: > 0 } folder ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "sea");
}
