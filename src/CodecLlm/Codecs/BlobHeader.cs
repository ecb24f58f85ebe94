using System.Buffers.Binary;
using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>Little helpers for reading and writing codec blob headers with bounds checks that name the tensor.</summary>
internal static class BlobHeader
{
    public static long AlignUp(long x, int a) => (x + a - 1) / a * a;

    public static void Require(bool condition, string tensorName, string problem)
    {
        if (!condition) throw new CorruptTensorException(tensorName, problem);
    }

    /// <summary>Checks the magic, version and dtype at the start of a blob.</summary>
    public static void CheckStart(ReadOnlySpan<byte> blob, uint magic, ushort version, string codec, TensorLayout layout, int headerBytes, string tensorName)
    {
        Require(blob.Length >= headerBytes, tensorName, $"{codec} blob truncated: {blob.Length} bytes, header needs {headerBytes}");
        Require(BinaryPrimitives.ReadUInt32LittleEndian(blob) == magic, tensorName, $"{codec} blob has a bad magic number");
        ushort v = BinaryPrimitives.ReadUInt16LittleEndian(blob[4..]);
        if (v != version) throw new UnsupportedModelException($"tensor '{tensorName}': {codec} blob version {v} is not supported (this build reads {version})");
        Require(blob[6] == (byte)layout.DType, tensorName, $"{codec} blob dtype code {blob[6]} does not match the tensor's {layout.DType}");
    }

    /// <summary>A section [offset, offset + length) that must lie inside the blob.</summary>
    public static ReadOnlySpan<byte> Section(ReadOnlySpan<byte> blob, ulong offset, ulong length, string what, string tensorName)
    {
        Require(offset <= (ulong)blob.Length && length <= (ulong)blob.Length - offset, tensorName,
            $"{what} [{offset}, {offset + length}) lies outside the blob ({blob.Length} bytes): truncated or corrupt");
        return blob.Slice((int)offset, (int)length);
    }

    public static uint Magic(string fourChars) =>
        (uint)(fourChars[0] | fourChars[1] << 8 | fourChars[2] << 16 | fourChars[3] << 24);
}
