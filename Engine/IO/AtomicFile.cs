using System.Runtime.InteropServices;

namespace Engine.IO;

/// <summary>
/// Writes files so that a reader sees either the old file or the complete new one, never half of it: the content
/// goes to a temporary name in the same folder, is flushed to disk, then renamed over the target. Only a regular
/// file is ever replaced: a symbolic link is written through (the file it leads to is replaced, the link stays), and
/// a folder, device, FIFO or socket, or a link that leads to one or to nothing, is refused with a
/// <see cref="RefusedOutputException"/> before anything is written.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>
    /// Refuses, before any work, an output path that <see cref="Write"/> would refuse (a folder, device, FIFO, socket, or
    /// a link to one or to nothing), so that a command does not compute for minutes and then fail to write.
    /// </summary>
    public static void CheckReplaceable(string path) => ReplaceableTarget(path);

    public static void WriteAllText(string path, string contents) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(contents);
        });

    public static void Write(string path, Action<Stream> write)
    {
        var target = ReplaceableTarget(path);
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>
    /// The absolute path the write renames onto: <paramref name="path"/> itself when nothing or a regular file is
    /// there, the final target when it is a symbolic link to a regular file; anything else throws.
    /// </summary>
    private static string ReplaceableTarget(string path)
    {
        var full = Path.GetFullPath(path);
        if (Path.EndsInDirectorySeparator(full))
            throw new RefusedOutputException($"{path}: names a folder, not a file");
        var link = new FileInfo(full);
        if (link.LinkTarget is null)
        {
            var node = NodeAt(full);
            return node is Node.Missing or Node.Regular
                ? full
                : throw new RefusedOutputException($"{path}: is {Describe(node)}, not a regular file; refusing to replace it");
        }

        string target;
        try
        {
            target = link.ResolveLinkTarget(returnFinalTarget: true)!.FullName;
        }
        catch (IOException e)
        {
            throw new RefusedOutputException($"{path}: is a symbolic link that cannot be followed ({e.Message}); refusing to write through it");
        }
        return NodeAt(target) switch
        {
            Node.Regular => target,
            Node.Missing => throw new RefusedOutputException($"{path}: is a symbolic link to {target}, which does not exist; refusing to write through it"),
            var node => throw new RefusedOutputException(
                $"{path}: is a symbolic link to {target}, which is {Describe(node)}, not a regular file; refusing to write through it"),
        };
    }

    private enum Node { Missing, Regular, Folder, CharacterDevice, BlockDevice, Fifo, Socket, Other }

    private static string Describe(Node node) => node switch
    {
        Node.Folder => "a folder",
        Node.CharacterDevice => "a character device",
        Node.BlockDevice => "a block device",
        Node.Fifo => "a FIFO (named pipe)",
        Node.Socket => "a socket",
        _ => "something other than a file",
    };

    /// <summary>What is at <paramref name="path"/>, following symbolic links.</summary>
    private static Node NodeAt(string path)
    {
        // .NET reports devices, FIFOs and sockets as files, so Linux is asked directly; elsewhere only folders are told apart.
        if (!OperatingSystem.IsLinux())
            return Directory.Exists(path) ? Node.Folder : File.Exists(path) ? Node.Regular : Node.Missing;
        var status = new byte[StatxSize];
        if (Statx(AtFdCwd, path, 0, StatxType, status) != 0) return Node.Missing;
        return (BitConverter.ToUInt16(status, StatxModeOffset) & 0xF000) switch
        {
            0x8000 => Node.Regular,
            0x4000 => Node.Folder,
            0x2000 => Node.CharacterDevice,
            0x6000 => Node.BlockDevice,
            0x1000 => Node.Fifo,
            0xC000 => Node.Socket,
            _ => Node.Other,
        };
    }

    // statx(2): its struct has the same layout on every Linux architecture, unlike stat's.
    private const int AtFdCwd = -100, StatxSize = 256, StatxModeOffset = 28;
    private const uint StatxType = 1;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte[] status);
}
