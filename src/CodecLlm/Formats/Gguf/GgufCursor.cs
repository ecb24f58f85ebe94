using System.Buffers.Binary;
using System.Text;
using CodecLlm.Model;

namespace CodecLlm.Formats.Gguf;

/// <summary>
/// Reads little-endian GGUF header fields from a mapped file, checking every read against the end of the
/// file so a truncated or lying header fails with a <see cref="ModelFormatException"/> instead of reading
/// past the mapping.
/// </summary>
internal sealed unsafe class GgufCursor(string path, NativeBytes file)
{
    public long Position { get; private set; }

    public long Remaining => file.Length - Position;

    private ReadOnlySpan<byte> Take(long count, string what)
    {
        if (count < 0 || count > Remaining || count > int.MaxValue)
            throw new ModelFormatException($"{path}: truncated GGUF file: {what} needs {count} bytes at offset {Position}, file has {file.Length}");
        ReadOnlySpan<byte> span = new(file.Pointer + Position, (int)count);
        Position += count;
        return span;
    }

    public byte U8(string what) => Take(1, what)[0];

    public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));

    public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

    public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public float F32(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));

    public double F64(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    /// <summary>A count (uint64) that must fit the rest of the file when each item takes at least <paramref name="minItemBytes"/>.</summary>
    public int Count(string what, long minItemBytes)
    {
        ulong n = U64(what);
        if (n > int.MaxValue || (long)n * minItemBytes > Remaining)
            throw new ModelFormatException($"{path}: truncated GGUF file: {what} claims {n} items at offset {Position - 8}, but only {Remaining} bytes remain");
        return (int)n;
    }

    /// <summary>A gguf_string: uint64 byte length, then UTF-8 bytes (no terminator).</summary>
    public string String(string what)
    {
        ulong n = U64(what + " length");
        if (n > (ulong)Remaining)
            throw new ModelFormatException($"{path}: truncated GGUF file: {what} claims {n} bytes at offset {Position - 8}, but only {Remaining} bytes remain");
        return Encoding.UTF8.GetString(Take((long)n, what));
    }
}
