using System.Diagnostics;
using Engine.IO;

namespace Engine.Tests;

/// <summary>
/// AtomicFile replaces regular files only: links are written through, anything else is refused with one line and
/// left as it was, with no temporary file beside it.
/// </summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("sea-atomic-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string In(string name) => Path.Combine(folder, name);

    /// <summary>Writes "new", and fails the test if the content callback runs when the write is refused.</summary>
    private static RefusedOutputException Refused(string path)
    {
        bool wrote = false;
        var e = Assert.Throws<RefusedOutputException>(() => AtomicFile.Write(path, s => { wrote = true; s.WriteByte((byte)'x'); }));
        Assert.False(wrote);
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith(path + ": ", e.Message);
        return e;
    }

    private static void AssertNoTemporaryFiles(string where) =>
        Assert.Empty(Directory.GetFiles(where, "*.tmp"));

    /// <summary>The file's type as coreutils' stat names it, e.g. "regular file", "symbolic link", "fifo".</summary>
    private static string TypeOf(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%F", path]) { RedirectStandardOutput = true })!;
        string type = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        Assert.Equal(0, stat.ExitCode);
        return type;
    }

    [Fact]
    public void A_regular_file_is_replaced_and_no_temporary_file_stays()
    {
        File.WriteAllText(In("out.txt"), "old content, longer than the new");
        AtomicFile.WriteAllText(In("out.txt"), "new");
        Assert.Equal("new", File.ReadAllText(In("out.txt")));
        Assert.Equal(new[] { In("out.txt") }, Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void A_missing_file_is_created_with_its_folder()
    {
        var path = Path.Combine(folder, "a", "b", "out.txt");
        AtomicFile.WriteAllText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.GetFileSystemEntries(Path.Combine(folder, "a", "b")));
    }

    [Fact]
    public void A_link_to_a_file_is_written_through_and_stays_a_link()
    {
        Directory.CreateDirectory(In("real"));
        var target = Path.Combine(folder, "real", "target.txt");
        File.WriteAllText(target, "old");
        // A relative link through a second link: the chain is followed to its end.
        File.CreateSymbolicLink(In("middle"), Path.Combine("real", "target.txt"));
        File.CreateSymbolicLink(In("out.txt"), "middle");

        AtomicFile.WriteAllText(In("out.txt"), "new");

        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal("middle", new FileInfo(In("out.txt")).LinkTarget);
        Assert.Equal(Path.Combine("real", "target.txt"), new FileInfo(In("middle")).LinkTarget);
        AssertNoTemporaryFiles(folder);
        Assert.Equal(new[] { target }, Directory.GetFileSystemEntries(In("real")));
    }

    [Fact]
    public void A_dangling_link_is_refused_and_its_target_not_created()
    {
        File.CreateSymbolicLink(In("out.txt"), In("nowhere.txt"));
        var e = Refused(In("out.txt"));
        Assert.Contains($"is a symbolic link to {In("nowhere.txt")}, which does not exist", e.Message);
        Assert.Equal(In("nowhere.txt"), new FileInfo(In("out.txt")).LinkTarget);
        Assert.False(File.Exists(In("nowhere.txt")));
        Assert.Equal(new[] { In("out.txt") }, Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void A_link_loop_is_refused()
    {
        File.CreateSymbolicLink(In("a"), "b");
        File.CreateSymbolicLink(In("b"), "a");
        Assert.Contains("is a symbolic link that cannot be followed", Refused(In("a")).Message);
        Assert.Equal("b", new FileInfo(In("a")).LinkTarget);
        Assert.Equal(2, Directory.GetFileSystemEntries(folder).Length);
    }

    [Fact]
    public void A_folder_is_refused_and_keeps_its_contents()
    {
        Directory.CreateDirectory(In("out"));
        File.WriteAllText(Path.Combine(folder, "out", "kept.txt"), "kept");
        Assert.Equal($"{In("out")}: is a folder, not a regular file; refusing to replace it", Refused(In("out")).Message);
        Assert.Equal("kept", File.ReadAllText(Path.Combine(folder, "out", "kept.txt")));
        Assert.Equal(new[] { In("out") }, Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void A_fifo_is_refused_and_stays_a_fifo()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "FIFOs are made with Linux's mkfifo");
        using (var mkfifo = Process.Start("mkfifo", [In("out.fifo")])!) mkfifo.WaitForExit();
        Assert.Equal($"{In("out.fifo")}: is a FIFO (named pipe), not a regular file; refusing to replace it", Refused(In("out.fifo")).Message);
        Assert.Equal("fifo", TypeOf(In("out.fifo")));
        Assert.Equal(new[] { In("out.fifo") }, Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void A_character_device_is_refused_and_stays_a_device()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/dev/null is a device node on Linux");
        Assert.Equal("/dev/null: is a character device, not a regular file; refusing to replace it", Refused("/dev/null").Message);
        Assert.Equal("character special file", TypeOf("/dev/null"));
        AssertNoTemporaryFiles("/dev");
    }

    [Fact]
    public void A_link_to_a_device_is_refused_and_stays_a_link()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/dev/null is a device node on Linux");
        File.CreateSymbolicLink(In("out.txt"), "/dev/null");
        Assert.Equal($"{In("out.txt")}: is a symbolic link to /dev/null, which is a character device, not a regular file; refusing to write through it",
            Refused(In("out.txt")).Message);
        Assert.Equal("/dev/null", new FileInfo(In("out.txt")).LinkTarget);
        Assert.Equal("character special file", TypeOf("/dev/null"));
    }
}
