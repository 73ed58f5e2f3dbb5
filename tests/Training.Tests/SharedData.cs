namespace Engine.Training.Tests;

/// <summary>
/// Finds the real datasets in <c>&lt;repo&gt;/../shared/data</c>. They live beside the repository, not in it, so a
/// clone without them still builds and its tests skip rather than fail.
/// </summary>
public static class SharedData
{
    /// <summary>The folder holding <c>&lt;name&gt;/&lt;name&gt;.inter</c>, or null when no parent of the test binaries has one.</summary>
    public static string? Find(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var folder = Path.Combine(dir.FullName, "shared", "data", name);
            if (File.Exists(Path.Combine(folder, name + ".inter"))) return folder;
        }
        return null;
    }

    /// <summary>The folder, or a skipped test that says where it was looked for.</summary>
    public static string FindOrSkip(string name)
    {
        var folder = Find(name);
        if (folder is null)
            Assert.Skip($"../shared/data/{name} not found: looked for shared/data/{name}/{name}.inter in every parent of " +
                        AppContext.BaseDirectory);
        return folder;
    }
}
