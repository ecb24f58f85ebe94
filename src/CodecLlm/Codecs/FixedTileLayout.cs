using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>
/// The tile layout of the <c>fixed</c> codec (layout version 4), read directly by the fused decode+matvec kernel
/// (Backends/Cuda/Kernels/fused_matvec.cu) and specified in docs/FORMAT.md ("fixed"): 8x128 tiles of sign/mantissa
/// bytes + three 3-bit code planes; code c = exponent base + c (c = 0..7). A weight whose exponent is outside
/// [base, base + 7] is an exception: code 0, and entries in the escape section (a 64-byte delta table, then 16-bit
/// entries "weight position, table slot" with per-tile offsets) whose table bytes XOR into its exponent. BF16 tiles
/// are 1408 bytes (the GPU layout); F16 and F32 use the same geometry with 2 and 3 sign/mantissa bytes per weight.
/// Pure functions over arrays; the codec's blob header is not part of this class.
/// </summary>
public static class FixedTileLayout
{
    public const int TileRows = 8;
    public const int TileCols = 128;
    public const int WeightsPerLane = 32;
    public const int CodePlaneBytes = 3 * 128;

    /// <summary>Bytes of a BF16 tile (the layout the GPU reads).</summary>
    public const int TileBytes = 1408;

    /// <summary>Zero bytes after the escape section (not counted in its size).</summary>
    public const int EscapePadding = 8;

    /// <summary>Bytes of the delta table at the start of the escape section.</summary>
    public const int TableBytes = 64;

    /// <summary>Table slots 0..55 hold the tensor's most frequent exception deltas; slots 56..63 the bits 1 &lt;&lt; (slot - 56).</summary>
    public const int BasisSlot = 56;

    /// <summary>Bytes of one exception entry: u16, bits 0..9 = position 32 lane + i, bits 10..15 = table slot.</summary>
    public const int EntryBytes = 2;

    /// <summary>Bytes of one tile when each weight has <paramref name="restBytes"/> sign/mantissa bytes.</summary>
    public static int TileBytesOf(int restBytes) => 1024 * restBytes + CodePlaneBytes;

    /// <summary>
    /// The three sections of an encoded matrix. <see cref="Escapes"/> is the escape section: the 64-byte delta table, the
    /// entries (2 bytes each, tile after tile), then 8 zero padding bytes; <see cref="TileOffsets"/>[t] = entries before tile t.
    /// </summary>
    public sealed record Encoded(int Rows, int Cols, int Base, byte[] Tiles, uint[] TileOffsets, byte[] Escapes, int RestBytes = 1)
    {
        public int RowGroups => (Rows + TileRows - 1) / TileRows;

        public int ColTiles => (Cols + TileCols - 1) / TileCols;

        /// <summary>Exception entries in the escape section.</summary>
        public int EntryCount => (Escapes.Length - TableBytes - EscapePadding) / EntryBytes;

        /// <summary>Bytes of the three sections without the escape padding.</summary>
        public long ByteCount => Tiles.LongLength + 4L * TileOffsets.LongLength + Escapes.LongLength - EscapePadding;
    }

    /// <summary>The matrix view of a tensor: 2-D as it is, anything else as rows of 128 (tail padded).</summary>
    public static (int Rows, int Cols) MatrixView(ReadOnlySpan<long> shape, long elementCount)
    {
        if (shape.Length == 2) return (checked((int)shape[0]), checked((int)shape[1]));
        return (checked((int)((elementCount + TileCols - 1) / TileCols)), TileCols);
    }

    /// <summary>Start of the window of 8 consecutive exponents covering most weights (first such window; &lt;= 248).</summary>
    public static int ChooseBase(ReadOnlySpan<long> histogram)
    {
        int best = 0;
        long bestCount = -1;
        for (int b = 0; b <= 248; b++)
        {
            long c = 0;
            for (int k = 0; k < 8; k++) c += histogram[b + k];
            if (c > bestCount) { bestCount = c; best = b; }
        }
        return best;
    }

    /// <summary>
    /// The 64-byte delta table for an exponent histogram and base: slots 0..55 = the deltas e ^ base of the exponents e
    /// outside [base, base + 7], by decreasing weight count (ties: the smaller delta first), unused slots 0; slots
    /// 56..63 = 1 &lt;&lt; (slot - 56).
    /// </summary>
    public static byte[] DeltaTable(ReadOnlySpan<long> histogram, int baseExp)
    {
        var deltas = new List<(int Delta, long Count)>();
        for (int e = 0; e < histogram.Length; e++)
            if (histogram[e] > 0 && (e < baseExp || e > baseExp + 7)) deltas.Add((e ^ baseExp, histogram[e]));
        deltas.Sort((a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.Delta.CompareTo(b.Delta));
        var table = new byte[TableBytes];
        for (int s = 0; s < Math.Min(BasisSlot, deltas.Count); s++) table[s] = (byte)deltas[s].Delta;
        for (int b = 0; b < 8; b++) table[BasisSlot + b] = (byte)(1 << b);
        return table;
    }

    /// <summary>
    /// Index of weight <paramref name="i"/> of lane <paramref name="lane"/> in the rest fields: weights 0..15 at 16 lane + i, 16..31 at
    /// 512 + 16 lane + i - 16, so that each 16-byte load of the warp reads 512 contiguous bytes (whole 32-byte sectors).
    /// </summary>
    public static int RestIndex(int lane, int i) => (i >> 4) * 512 + 16 * lane + (i & 15);

    /// <summary>Word (0..2) and bit of code bit <paramref name="j"/> of weight <paramref name="i"/> (pair i/2, half i%2) of a lane.</summary>
    private static (int Word, int Bit) CodeBit(int i, int j)
    {
        int p = i >> 1, h = i & 1;
        return p < 15 ? (p % 3, h * 16 + 3 * (p / 3) + j) : (j, h * 16 + 15);
    }

    private static readonly (int Word, int Bit)[] CodeBits = Enumerable.Range(0, 96).Select(k => CodeBit(k / 3, k % 3)).ToArray();

    /// <summary>Encodes BF16 values (bit patterns) viewed as [rows, cols], row-major; missing tail values are padding.</summary>
    public static Encoded Encode(ReadOnlySpan<ushort> weights, int rows, int cols) =>
        Encode(MemoryMarshal.AsBytes(weights), TensorDType.BF16, rows, cols);

    /// <summary>Encodes F32/F16/BF16 elements viewed as [rows, cols], row-major; missing tail values are padding.</summary>
    public static Encoded Encode(ReadOnlySpan<byte> data, TensorDType dt, int rows, int cols)
    {
        int eb = dt.ByteSize(), rb = FloatFields.RestBytes(dt), tileBytes = TileBytesOf(rb);
        long n = data.Length / eb;
        if ((long)rows * cols < n) throw new ArgumentException($"{n} values do not fit a [{rows}, {cols}] view");
        Span<long> hist = stackalloc long[256];
        for (long i = 0; i < n; i++) hist[FloatFields.Exponent(dt, FloatFields.Load(data, i, eb))]++;
        int baseExp = ChooseBase(hist);
        byte[] table = DeltaTable(hist, baseExp);
        Span<int> slotOf = stackalloc int[256];  // table slot 0..55 of a delta, or -1: one entry per set bit
        slotOf.Fill(-1);
        for (int s = 0; s < BasisSlot; s++)
            if (table[s] != 0) slotOf[table[s]] = s;  // a delta is never 0: unused slots stay out
        int groups = (rows + TileRows - 1) / TileRows, tilesPerRow = (cols + TileCols - 1) / TileCols;
        long tileCount = (long)groups * tilesPerRow;
        var tiles = new byte[checked(tileCount * tileBytes)];
        var offsets = new uint[tileCount + 1];
        var entries = new List<ushort>((int)Math.Min(int.MaxValue / 4, n / 32 + 16));
        Span<uint> words = stackalloc uint[3];
        for (long tile = 0; tile < tileCount; tile++)
        {
            int g = (int)(tile / tilesPerRow), t = (int)(tile % tilesPerRow);
            offsets[tile] = checked((uint)entries.Count);
            Span<byte> tp = tiles.AsSpan(checked((int)(tile * tileBytes)), tileBytes);
            for (int lane = 0; lane < 32; lane++)
            {
                words.Clear();
                for (int i = 0; i < WeightsPerLane; i++)
                {
                    long row = g * TileRows + (i >> 2), col = t * TileCols + 4 * lane + (i & 3);
                    long idx = row * cols + col;
                    bool inside = row < rows && col < cols && idx < n;
                    uint v = inside ? FloatFields.Load(data, idx, eb) : 0;
                    int exponent = FloatFields.Exponent(dt, v);
                    FloatFields.StoreRest(tp, RestIndex(lane, i), rb, FloatFields.Rest(dt, v));
                    int code = inside ? exponent - baseExp : 0;
                    if (code is < 0 or > 7)
                    {
                        // An exception: code 0 (exponent base), and entries whose deltas XOR to exponent ^ base,
                        // in ascending slot order (entries of a tile by ascending position 32 lane + i).
                        code = 0;
                        int delta = exponent ^ baseExp, position = 32 * lane + i;
                        if (slotOf[delta] >= 0)
                        {
                            entries.Add((ushort)(position | slotOf[delta] << 10));
                        }
                        else
                        {
                            for (int b = 0; b < 8; b++)
                                if ((delta >> b & 1) != 0) entries.Add((ushort)(position | (BasisSlot + b) << 10));
                        }
                    }
                    for (int j = 0; j < 3; j++)
                        if (((code >> j) & 1) != 0)
                        {
                            (int word, int bit) = CodeBits[3 * i + j];
                            words[word] |= 1u << bit;
                        }
                }
                int planes = 1024 * rb;
                for (int j = 0; j < 3; j++) BinaryPrimitives.WriteUInt32LittleEndian(tp.Slice(planes + 128 * j + 4 * lane, 4), words[j]);
            }
        }
        offsets[tileCount] = checked((uint)entries.Count);
        var escapes = new byte[checked(TableBytes + EntryBytes * entries.Count + EscapePadding)];
        table.CopyTo(escapes, 0);
        for (int k = 0; k < entries.Count; k++) BinaryPrimitives.WriteUInt16LittleEndian(escapes.AsSpan(TableBytes + EntryBytes * k), entries[k]);
        return new Encoded(rows, cols, baseExp, tiles, offsets, escapes, rb);
    }

    /// <summary>Decodes BF16 into <paramref name="destination"/> (the first destination.Length values of the view).</summary>
    /// <exception cref="CorruptTensorException">Sections inconsistent with each other.</exception>
    public static void Decode(Encoded e, Span<ushort> destination, string tensorName) =>
        Decode(e.Rows, e.Cols, e.Base, e.Tiles, e.TileOffsets, e.Escapes.AsSpan(0, e.Escapes.Length - EscapePadding), TensorDType.BF16,
            MemoryMarshal.AsBytes(destination), tensorName);

    /// <summary>
    /// Decodes the sections (escape section without its padding) into <paramref name="destination"/>: the first
    /// destination.Length / element size values of the [rows, cols] view, of type <paramref name="dt"/>. Any entry
    /// value is valid (an entry at a padding weight has no effect), so the only checks are the section sizes and
    /// <see cref="CheckEscapeOffsets"/>.
    /// </summary>
    /// <exception cref="CorruptTensorException">Sections inconsistent with each other.</exception>
    public static unsafe void Decode(int rows, int cols, int baseExp, ReadOnlySpan<byte> tiles, ReadOnlySpan<uint> tileOffsets, ReadOnlySpan<byte> escapes,
        TensorDType dt, Span<byte> destination, string tensorName)
    {
        int eb = dt.ByteSize(), rb = FloatFields.RestBytes(dt), tileBytes = TileBytesOf(rb);
        int groups = (rows + TileRows - 1) / TileRows, tilesPerRow = (cols + TileCols - 1) / TileCols;
        long tileCount = (long)groups * tilesPerRow, n = destination.Length / eb;
        if (tiles.Length != tileCount * tileBytes) throw new CorruptTensorException(tensorName, $"fixed tiles: {tiles.Length} bytes, expected {tileCount * tileBytes}");
        if (baseExp is < 0 or > 248) throw new CorruptTensorException(tensorName, $"fixed base exponent {baseExp} outside 0..248");
        if (n > (long)rows * cols) throw new ArgumentException("destination larger than the matrix view");
        CheckEscapeOffsets(rows, cols, tileOffsets, escapes.Length, tensorName);
        var v = new View(rows, cols, baseExp, dt, tilesPerRow);
        if (tileCount * 1024 < 1 << 18)
        {
            for (long tile = 0; tile < tileCount; tile++) DecodeTile(v, tile, tiles, tileOffsets, escapes, destination);
            return;
        }
        // Row groups in parallel (large tensors); spans are rebuilt from pinned addresses in each worker.
        fixed (byte* pt = tiles)
        fixed (uint* po = tileOffsets)
        fixed (byte* pe = escapes)
        fixed (byte* pd = destination)
        {
            nint at = (nint)pt, ao = (nint)po, ae = (nint)pe, ad = (nint)pd;
            int lt = tiles.Length, lo = tileOffsets.Length, le = escapes.Length, ld = destination.Length;
            Parallel.For(0, groups, g =>
            {
                for (long tile = (long)g * tilesPerRow; tile < (long)(g + 1) * tilesPerRow; tile++)
                    DecodeTile(v, tile, new ReadOnlySpan<byte>((void*)at, lt), new ReadOnlySpan<uint>((void*)ao, lo),
                        new ReadOnlySpan<byte>((void*)ae, le), new Span<byte>((void*)ad, ld));
            });
        }
    }

    /// <summary>
    /// Checks the escape section's size and the tile offsets against each other: the section (without its padding) is
    /// <paramref name="escapeBytes"/> = 64 + 2 entries bytes, and the offsets start at 0, never decrease and end at the
    /// entry count. That is all a decoder needs: it reads tile t's entries [off[t], off[t+1]) without bounds checks (the
    /// GPU decoders do), and every entry value is valid (any slot of the 64-byte table, any position in the tile). The
    /// codes need no check: all 8 are ordinary exponents. A pass over the offsets only.
    /// </summary>
    /// <exception cref="CorruptTensorException">A section of the wrong size, or offsets that would leave the entries.</exception>
    public static void CheckEscapeOffsets(int rows, int cols, ReadOnlySpan<uint> tileOffsets, long escapeBytes, string tensorName)
    {
        long tileCount = (long)((rows + TileRows - 1) / TileRows) * ((cols + TileCols - 1) / TileCols);
        if (tileOffsets.Length != tileCount + 1)
            throw new CorruptTensorException(tensorName, $"fixed tile offsets: {tileOffsets.Length} values, expected {tileCount + 1}");
        if (escapeBytes < TableBytes || (escapeBytes - TableBytes) % EntryBytes != 0)
            throw new CorruptTensorException(tensorName, $"fixed escape section: {escapeBytes} bytes, expected {TableBytes} + {EntryBytes} x entries");
        long entries = (escapeBytes - TableBytes) / EntryBytes;
        if (tileOffsets[0] != 0 || tileOffsets[(int)tileCount] != entries)
            throw new CorruptTensorException(tensorName, $"fixed tile offsets span {tileOffsets[0]}..{tileOffsets[(int)tileCount]}, the escape section holds {entries} entries");
        for (int tile = 0; tile < tileCount; tile++)
            if (tileOffsets[tile + 1] < tileOffsets[tile])
                throw new CorruptTensorException(tensorName, $"fixed tile {tile}: escape offsets {tileOffsets[tile]}..{tileOffsets[tile + 1]} decrease");
    }

    private readonly record struct View(int Rows, int Cols, int Base, TensorDType DType, int TilesPerRow);

    /// <summary>Decodes one tile into its place in <paramref name="destination"/> (offsets checked by <see cref="CheckEscapeOffsets"/>).</summary>
    private static void DecodeTile(View v, long tile, ReadOnlySpan<byte> tiles, ReadOnlySpan<uint> tileOffsets, ReadOnlySpan<byte> escapes, Span<byte> destination)
    {
        int eb = v.DType.ByteSize(), rb = FloatFields.RestBytes(v.DType), tileBytes = TileBytesOf(rb), planes = 1024 * rb;
        long n = destination.Length / eb;
        Span<byte> exps = stackalloc byte[32 * WeightsPerLane];  // exponent of weight i of lane l at 32 l + i (an entry's position)
        int g = (int)(tile / v.TilesPerRow), t = (int)(tile % v.TilesPerRow);
        ReadOnlySpan<byte> tp = tiles.Slice(checked((int)(tile * tileBytes)), tileBytes);
        for (int lane = 0; lane < 32; lane++)
        {
            uint w0 = BinaryPrimitives.ReadUInt32LittleEndian(tp.Slice(planes + 4 * lane, 4));
            uint w1 = BinaryPrimitives.ReadUInt32LittleEndian(tp.Slice(planes + 128 + 4 * lane, 4));
            uint w2 = BinaryPrimitives.ReadUInt32LittleEndian(tp.Slice(planes + 256 + 4 * lane, 4));
            for (int i = 0; i < WeightsPerLane; i++)
            {
                int code = 0;
                for (int j = 0; j < 3; j++)
                {
                    (int word, int bit) = CodeBits[3 * i + j];
                    uint w = word == 0 ? w0 : word == 1 ? w1 : w2;
                    code |= (int)((w >> bit) & 1) << j;
                }
                exps[32 * lane + i] = (byte)(v.Base + code);
            }
        }
        ReadOnlySpan<byte> table = escapes[..TableBytes];
        for (long k = tileOffsets[(int)tile]; k < tileOffsets[(int)tile + 1]; k++)
        {
            int entry = BinaryPrimitives.ReadUInt16LittleEndian(escapes.Slice(checked((int)(TableBytes + EntryBytes * k)), EntryBytes));
            exps[entry & 1023] ^= table[entry >> 10];
        }
        for (int lane = 0; lane < 32; lane++)
            for (int i = 0; i < WeightsPerLane; i++)
            {
                long row = g * TileRows + (i >> 2), col = t * TileCols + 4 * lane + (i & 3);
                if (row >= v.Rows || col >= v.Cols) continue;
                long idx = row * v.Cols + col;
                if (idx >= n) continue;
                uint rest = FloatFields.LoadRest(tp, RestIndex(lane, i), rb);
                FloatFields.Store(destination, idx, eb, FloatFields.Join(v.DType, exps[32 * lane + i], rest));
            }
    }
}
