using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>
/// <c>fixed</c>: a fixed-cost, branch-free layout that the GPU multiplies from directly (fused decode +
/// matvec). Exponents are 3-bit codes relative to a per-tensor base (exponent = base + code); an exponent outside
/// that window of 8 is patched by XOR entries in an escape section; sign and mantissa bits are stored raw; 8-row x
/// 128-column tiles (<see cref="FixedTileLayout"/>). Blob: a 64-byte header, the tiles, the per-tile entry offsets,
/// the escape section (a 64-byte delta table and 2-byte entries, + 8 padding bytes).
/// Layout: docs/FORMAT.md, section "fixed".
/// </summary>
public sealed class FixedCodec : IWeightCodec
{
    /// <summary>
    /// 4: all 8 codes are exponents base + code; exponents outside the window are XOR-patched by entries of the escape
    /// section (a 64-byte delta table, then "position, table slot" entries). Version 3 (code 7 = an escape byte, the
    /// same tiles otherwise), version 2 (a lane's 32 rest fields together) and version 1 (4x256 tiles with an exponent
    /// table) are no longer read.
    /// </summary>
    public const ushort Version = 4;
    public const int HeaderBytes = 64;
    public static readonly uint Magic = BlobHeader.Magic("CLFX");

    public string Name => "fixed";

    public bool HasGpuDecoder => true;

    /// <summary>
    /// Where the sections of a fixed blob are (read from and checked against its header). <c>EscapeCount</c> is the size of the
    /// escape section in bytes without its 8 padding bytes: 64 (the delta table) + 2 x entries.
    /// </summary>
    public readonly record struct Sections(int Rows, int Cols, int Base, long TilesOffset, long OffsetsOffset, long EscapesOffset, long EscapeCount, long TotalBytes);

    public EncodedTensor Encode(ReadOnlySpan<byte> data, TensorLayout layout)
    {
        FloatFields.CheckInput(data, layout);
        (int rows, int cols) = FixedTileLayout.MatrixView(layout.Shape, layout.ElementCount);
        FixedTileLayout.Encoded e = FixedTileLayout.Encode(data, layout.DType, rows, cols);
        long tilesOffset = HeaderBytes;
        long offsetsOffset = tilesOffset + e.Tiles.LongLength;
        long escapesOffset = BlobHeader.AlignUp(offsetsOffset + 4L * e.TileOffsets.LongLength, 16);
        long escapeCount = e.Escapes.LongLength - FixedTileLayout.EscapePadding;
        long total = BlobHeader.AlignUp(escapesOffset + e.Escapes.LongLength, 16);  // padding bytes included
        byte[] blob = new byte[checked((int)total)];
        Span<byte> h = blob;
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        h[6] = (byte)layout.DType;
        h[7] = (byte)e.RestBytes;
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)rows);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)cols);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)e.Base);
        BinaryPrimitives.WriteUInt64LittleEndian(h[24..], (ulong)tilesOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], (ulong)offsetsOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[40..], (ulong)escapesOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[48..], (ulong)escapeCount);
        BinaryPrimitives.WriteUInt64LittleEndian(h[56..], (ulong)total);
        e.Tiles.CopyTo(blob.AsSpan((int)tilesOffset));
        MemoryMarshal.AsBytes(e.TileOffsets.AsSpan()).CopyTo(blob.AsSpan((int)offsetsOffset));
        e.Escapes.CopyTo(blob.AsSpan((int)escapesOffset));
        return new EncodedTensor(blob, new Dictionary<string, string>());
    }

    /// <summary>Checks a blob's header against the tensor and returns its sections (also used by the GPU upload).</summary>
    /// <exception cref="CorruptTensorException">The header does not match the tensor or the blob.</exception>
    /// <exception cref="UnsupportedModelException">An unsupported fixed layout version.</exception>
    public static Sections ReadSections(ReadOnlySpan<byte> blob, TensorLayout layout, string tensorName)
    {
        if (blob.Length >= 6 && BinaryPrimitives.ReadUInt32LittleEndian(blob) == Magic && BinaryPrimitives.ReadUInt16LittleEndian(blob[4..]) != Version)
            throw new UnsupportedModelException($"tensor '{tensorName}': unsupported fixed layout version {BinaryPrimitives.ReadUInt16LittleEndian(blob[4..])} (this build reads version {Version}: 8 exponent codes, exceptions patched by XOR entries); re-compress the model");
        BlobHeader.CheckStart(blob, Magic, Version, "fixed", layout, HeaderBytes, tensorName);
        (int rows, int cols) = FixedTileLayout.MatrixView(layout.Shape, layout.ElementCount);
        int rb = FloatFields.RestBytes(layout.DType);
        BlobHeader.Require(blob[7] == rb && BinaryPrimitives.ReadUInt32LittleEndian(blob[8..]) == rows && BinaryPrimitives.ReadUInt32LittleEndian(blob[12..]) == cols,
            tensorName, $"fixed blob geometry does not match the tensor's shape [{string.Join(", ", layout.Shape)}]");
        uint baseExp = BinaryPrimitives.ReadUInt32LittleEndian(blob[16..]);
        BlobHeader.Require(baseExp <= 248, tensorName, $"fixed base exponent {baseExp} outside 0..248");
        long tileCount = (long)((rows + 7) / 8) * ((cols + 127) / 128);
        var s = new Sections(rows, cols, (int)baseExp,
            (long)BinaryPrimitives.ReadUInt64LittleEndian(blob[24..]), (long)BinaryPrimitives.ReadUInt64LittleEndian(blob[32..]),
            (long)BinaryPrimitives.ReadUInt64LittleEndian(blob[40..]), (long)BinaryPrimitives.ReadUInt64LittleEndian(blob[48..]),
            (long)BinaryPrimitives.ReadUInt64LittleEndian(blob[56..]));
        BlobHeader.Require(s.TotalBytes == blob.Length, tensorName, $"fixed blob is {blob.Length} bytes, its header says {s.TotalBytes}: truncated or corrupt");
        BlobHeader.Section(blob, (ulong)s.TilesOffset, (ulong)(tileCount * FixedTileLayout.TileBytesOf(rb)), "tile region", tensorName);
        BlobHeader.Section(blob, (ulong)s.OffsetsOffset, (ulong)(tileCount + 1) * 4, "tile offsets", tensorName);
        BlobHeader.Section(blob, (ulong)s.EscapesOffset, (ulong)s.EscapeCount + FixedTileLayout.EscapePadding, "escape section", tensorName);
        BlobHeader.Require(s.TilesOffset % 16 == 0 && s.OffsetsOffset % 4 == 0 && s.EscapesOffset % 16 == 0, tensorName, "fixed sections are misaligned");
        return s;
    }

    public void Decode(ReadOnlySpan<byte> blob, TensorLayout layout, IReadOnlyDictionary<string, string> parameters, Span<byte> destination, string tensorName)
    {
        Sections s = ReadSections(blob, layout, tensorName);
        BlobHeader.Require(destination.Length == layout.ByteLength, tensorName, "destination size does not match the tensor");
        long tileCount = (long)((s.Rows + 7) / 8) * ((s.Cols + 127) / 128);
        int rb = FloatFields.RestBytes(layout.DType);
        ReadOnlySpan<byte> tiles = blob.Slice((int)s.TilesOffset, checked((int)(tileCount * FixedTileLayout.TileBytesOf(rb))));
        ReadOnlySpan<uint> offsets = MemoryMarshal.Cast<byte, uint>(blob.Slice((int)s.OffsetsOffset, checked((int)((tileCount + 1) * 4))));
        ReadOnlySpan<byte> escapes = blob.Slice((int)s.EscapesOffset, checked((int)s.EscapeCount));
        FixedTileLayout.Decode(s.Rows, s.Cols, s.Base, tiles, offsets, escapes, layout.DType, destination, tensorName);
    }
}
