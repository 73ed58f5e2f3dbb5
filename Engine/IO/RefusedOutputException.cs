namespace Engine.IO;

/// <summary>
/// An output path holds something <see cref="AtomicFile"/> must not replace (a folder, a device, a FIFO, a socket, a
/// link to one or to nothing); the message is one line naming the path and what is there. Nothing was written.
/// </summary>
public sealed class RefusedOutputException(string message) : IOException(message);
