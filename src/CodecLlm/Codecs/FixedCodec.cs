using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>
/// <c>fixed</c>: a fixed-cost, branch-free layout for fused decode + matrix-vector kernels. Per tensor, the
/// 7 most frequent exponent values get 3-bit codes 0..6; code 7 escapes to a per-tensor stream of exponent
/// bytes. The matrix is cut into tiles of 4 rows × 256 columns; each tile stores the sign/mantissa bytes
/// and three 32-bit code bit-planes per lane, and a per-tile start index into the escape stream.
/// Layout: docs/FORMAT.md, section "fixed".
/// </summary>
public sealed class FixedCodec : IWeightCodec
{
    public const ushort Version = 1;
    public const int HeaderBytes = 128;
    public const int TableSize = 7;
    public const int EscapeCode = 7;
    public static readonly uint Magic = BlobHeader.Magic("CLFX");

    public string Name => "fixed";

    public bool HasGpuDecoder => false;

    public EncodedTensor Encode(ReadOnlySpan<byte> data, TensorLayout layout)
    {
        FloatFields.CheckInput(data, layout);
        TensorDType dt = layout.DType;
        int eb = dt.ByteSize(), rb = FloatFields.RestBytes(dt);
        (int rows, int cols) = FixedTileGeometry.MatrixOf(layout.Shape);
        FixedTileGeometry geo = new(rows, cols, rb);

        // Exponent table: the 7 most frequent exponent values over the padded matrix (padding is +0.0).
        long[] hist = new long[256];
        for (long i = 0; i < layout.ElementCount; i++) hist[FloatFields.Exponent(dt, FloatFields.Load(data, i, eb))]++;
        hist[0] += (long)geo.PaddedRows * geo.PaddedCols - layout.ElementCount;
        byte[] table = new byte[8];
        int[] codeOf = new int[256];
        Array.Fill(codeOf, EscapeCode);
        int[] ranked = Enumerable.Range(0, 256).Where(e => hist[e] > 0).OrderByDescending(e => hist[e]).ThenBy(e => e).Take(TableSize).ToArray();
        for (int c = 0; c < ranked.Length; c++)
        {
            table[c] = (byte)ranked[c];
            codeOf[ranked[c]] = c;
        }

        long tilesOffset = HeaderBytes;
        long tilesBytes = geo.RowGroups * geo.RowGroupBytes;
        long startsOffset = tilesOffset + tilesBytes;
        long startsBytes = (geo.TileCount + 1L) * 4;
        long escapesOffset = BlobHeader.AlignUp(startsOffset + startsBytes, 16);
        long maxTotal = BlobHeader.AlignUp(escapesOffset + (long)geo.PaddedRows * geo.PaddedCols, 16);
        byte[] blob = new byte[maxTotal];
        Span<byte> tiles = blob.AsSpan((int)tilesOffset, (int)tilesBytes);
        Span<uint> starts = MemoryMarshal.Cast<byte, uint>(blob.AsSpan((int)startsOffset, (int)startsBytes));
        Span<byte> escapes = blob.AsSpan((int)escapesOffset);
        long escapeCount = 0;

        for (int rg = 0; rg < geo.RowGroups; rg++)
        {
            for (int t = 0; t < geo.TilesPerRowGroup; t++)
            {
                starts[rg * geo.TilesPerRowGroup + t] = checked((uint)escapeCount);
                int lanes = geo.LanesOf(t);
                Span<byte> tile = tiles.Slice((int)geo.TileOffset(rg, t), (int)geo.TileBytes(lanes));
                Span<uint> planes = MemoryMarshal.Cast<byte, uint>(tile.Slice((int)geo.PlanesOffset(lanes), 12 * lanes));
                for (int l = 0; l < lanes; l++)
                {
                    uint p0 = 0, p1 = 0, p2 = 0;
                    for (int j = 0; j < FixedTileGeometry.WeightsPerLane; j++)
                    {
                        int r = rg * FixedTileGeometry.TileRows + j / FixedTileGeometry.LaneCols;
                        int c = t * FixedTileGeometry.TileCols + l * FixedTileGeometry.LaneCols + j % FixedTileGeometry.LaneCols;
                        uint v = r < rows && c < cols ? FloatFields.Load(data, (long)r * cols + c, eb) : 0;
                        byte e = FloatFields.Exponent(dt, v);
                        int code = codeOf[e];
                        if (code == EscapeCode) escapes[(int)escapeCount++] = e;
                        FloatFields.StoreRest(tile, (long)l * FixedTileGeometry.WeightsPerLane + j, rb, FloatFields.Rest(dt, v));
                        p0 |= (uint)(code & 1) << j;
                        p1 |= (uint)(code >> 1 & 1) << j;
                        p2 |= (uint)(code >> 2 & 1) << j;
                    }
                    planes[l] = p0;
                    planes[lanes + l] = p1;
                    planes[2 * lanes + l] = p2;
                }
            }
        }
        starts[geo.TileCount] = checked((uint)escapeCount);
        long total = BlobHeader.AlignUp(escapesOffset + escapeCount, 16);

        Span<byte> h = blob;
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], Version);
        h[6] = (byte)dt;
        h[7] = (byte)rb;
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)rows);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)cols);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)geo.PaddedRows);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)geo.PaddedCols);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)geo.TilesPerRowGroup);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], (uint)geo.LastTileLanes);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], (ulong)geo.RowGroupBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(h[40..], (ulong)tilesOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[48..], (ulong)startsOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[56..], (ulong)escapesOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[64..], (ulong)escapeCount);
        BinaryPrimitives.WriteUInt64LittleEndian(h[72..], (ulong)total);
        table.CopyTo(h[80..]);
        return new EncodedTensor(blob.AsSpan(0, (int)total).ToArray(), new Dictionary<string, string>());
    }

    public unsafe void Decode(ReadOnlySpan<byte> blob, TensorLayout layout, IReadOnlyDictionary<string, string> parameters, Span<byte> destination, string tensorName)
    {
        TensorDType dt = layout.DType;
        int eb = dt.ByteSize(), rb = FloatFields.RestBytes(dt);
        BlobHeader.CheckStart(blob, Magic, Version, Name, layout, HeaderBytes, tensorName);
        (int rows, int cols) = FixedTileGeometry.MatrixOf(layout.Shape);
        FixedTileGeometry geo = new(rows, cols, rb);
        BlobHeader.Require(blob[7] == rb
            && BinaryPrimitives.ReadUInt32LittleEndian(blob[8..]) == rows
            && BinaryPrimitives.ReadUInt32LittleEndian(blob[12..]) == cols
            && BinaryPrimitives.ReadUInt32LittleEndian(blob[16..]) == geo.PaddedRows
            && BinaryPrimitives.ReadUInt32LittleEndian(blob[20..]) == geo.PaddedCols
            && BinaryPrimitives.ReadUInt32LittleEndian(blob[24..]) == geo.TilesPerRowGroup
            && BinaryPrimitives.ReadUInt32LittleEndian(blob[28..]) == geo.LastTileLanes
            && BinaryPrimitives.ReadUInt64LittleEndian(blob[32..]) == (ulong)geo.RowGroupBytes,
            tensorName, $"fixed blob geometry does not match the tensor's shape [{string.Join(", ", layout.Shape)}]");
        ulong tilesOffset = BinaryPrimitives.ReadUInt64LittleEndian(blob[40..]);
        ulong startsOffset = BinaryPrimitives.ReadUInt64LittleEndian(blob[48..]);
        ulong escapesOffset = BinaryPrimitives.ReadUInt64LittleEndian(blob[56..]);
        ulong escapeCount = BinaryPrimitives.ReadUInt64LittleEndian(blob[64..]);
        ulong total = BinaryPrimitives.ReadUInt64LittleEndian(blob[72..]);
        BlobHeader.Require(total == (ulong)blob.Length, tensorName, $"fixed blob is {blob.Length} bytes, its header says {total}: truncated or corrupt");
        BlobHeader.Require(destination.Length == layout.ByteLength, tensorName, "destination size does not match the tensor");
        ReadOnlySpan<byte> tiles = BlobHeader.Section(blob, tilesOffset, (ulong)(geo.RowGroups * geo.RowGroupBytes), "tile region", tensorName);
        ReadOnlySpan<uint> starts = MemoryMarshal.Cast<byte, uint>(BlobHeader.Section(blob, startsOffset, (ulong)(geo.TileCount + 1L) * 4, "escape starts", tensorName));
        ReadOnlySpan<byte> escapes = BlobHeader.Section(blob, escapesOffset, escapeCount, "escape stream", tensorName);
        BlobHeader.Require(starts[0] == 0 && starts[geo.TileCount] == escapeCount, tensorName, "fixed escape starts are corrupt");
        for (int i = 0; i < geo.TileCount; i++)
            BlobHeader.Require(starts[i] <= starts[i + 1], tensorName, $"fixed escape start of tile {i} is corrupt");
        byte[] table = blob.Slice(80, 8).ToArray();

        fixed (byte* pTiles = tiles)
        fixed (uint* pStarts = starts)
        fixed (byte* pEsc = escapes)
        fixed (byte* pDst = destination)
        {
            TileDecoder dec = new(geo, pTiles, pStarts, pEsc, pDst, table, dt, eb, rb);
            string? bad = null;
            if ((long)rows * cols >= 1 << 20)
                Parallel.For(0, geo.RowGroups, rg => { string? e = dec.DecodeRowGroup(rg); if (e != null) bad ??= e; });
            else
                for (int rg = 0; rg < geo.RowGroups && bad == null; rg++) bad = dec.DecodeRowGroup(rg);
            if (bad != null) throw new CorruptTensorException(tensorName, bad);
        }
    }

    private readonly unsafe struct TileDecoder(FixedTileGeometry geo, byte* tiles, uint* starts, byte* escapes, byte* dst, byte[] table,
        TensorDType dt, int eb, int rb)
    {
        public string? DecodeRowGroup(int rg)
        {
            for (int t = 0; t < geo.TilesPerRowGroup; t++)
            {
                int tileIndex = rg * geo.TilesPerRowGroup + t;
                uint esc = starts[tileIndex];
                uint escEnd = starts[tileIndex + 1];
                int lanes = geo.LanesOf(t);
                byte* tile = tiles + geo.TileOffset(rg, t);
                uint* planes = (uint*)(tile + geo.PlanesOffset(lanes));
                for (int l = 0; l < lanes; l++)
                {
                    uint p0 = planes[l], p1 = planes[lanes + l], p2 = planes[2 * lanes + l];
                    byte* rest = tile + l * FixedTileGeometry.WeightsPerLane * rb;
                    for (int j = 0; j < FixedTileGeometry.WeightsPerLane; j++)
                    {
                        int code = (int)((p0 >> j & 1) | (p1 >> j & 1) << 1 | (p2 >> j & 1) << 2);
                        byte e;
                        if (code == EscapeCode)
                        {
                            if (esc >= escEnd) return $"fixed tile {tileIndex} has more escapes than its escape range";
                            e = escapes[esc++];
                        }
                        else e = table[code];
                        int r = rg * FixedTileGeometry.TileRows + j / FixedTileGeometry.LaneCols;
                        int c = t * FixedTileGeometry.TileCols + l * FixedTileGeometry.LaneCols + j % FixedTileGeometry.LaneCols;
                        if (r >= geo.Rows || c >= geo.Cols) continue;
                        long idx = (long)r * geo.Cols + c;
                        if (dt == TensorDType.BF16)
                        {
                            uint rv = rest[j];
                            ((ushort*)dst)[idx] = (ushort)(((rv & 0x80) << 8) | ((uint)e << 7) | (rv & 0x7F));
                        }
                        else
                        {
                            byte* rp = rest + j * rb;
                            uint rv = rb == 2 ? (uint)(rp[0] | rp[1] << 8) : (uint)(rp[0] | rp[1] << 8 | rp[2] << 16);
                            uint v = FloatFields.Join(dt, e, rv);
                            if (eb == 2) ((ushort*)dst)[idx] = (ushort)v;
                            else ((uint*)dst)[idx] = v;
                        }
                    }
                }
                if (esc != escEnd) return $"fixed tile {tileIndex} uses {esc - starts[tileIndex]} escapes, its range holds {escEnd - starts[tileIndex]}";
            }
            return null;
        }
    }
}
