using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>
/// The tile layout of the <c>fixed</c> codec, read directly by the fused decode+matvec kernel
/// (Backends/Cuda/Kernels/fused_matvec.cu) and specified in docs/FORMAT.md ("fixed"): 8x128 tiles of
/// sign/mantissa bytes + three 3-bit code planes; code c &lt; 7 = exponent base + c, code 7 = escape byte in
/// a separate stream with per-tile offsets. BF16 tiles are 1408 bytes (the GPU layout); F16 and F32 use the
/// same geometry with 2 and 3 sign/mantissa bytes per weight. Pure functions over arrays; the codec's blob
/// header is not part of this class.
/// </summary>
public static class FixedTileLayout
{
    public const int TileRows = 8;
    public const int TileCols = 128;
    public const int WeightsPerLane = 32;
    public const int CodePlaneBytes = 3 * 128;

    /// <summary>Bytes of a BF16 tile (the layout the GPU reads).</summary>
    public const int TileBytes = 1408;
    public const int EscapePadding = 8;

    /// <summary>Bytes of one tile when each weight has <paramref name="restBytes"/> sign/mantissa bytes.</summary>
    public static int TileBytesOf(int restBytes) => 1024 * restBytes + CodePlaneBytes;

    /// <summary>The three sections of an encoded matrix. <see cref="Escapes"/> ends with 8 zero padding bytes.</summary>
    public sealed record Encoded(int Rows, int Cols, int Base, byte[] Tiles, uint[] TileOffsets, byte[] Escapes, int RestBytes = 1)
    {
        public int RowGroups => (Rows + TileRows - 1) / TileRows;

        public int ColTiles => (Cols + TileCols - 1) / TileCols;

        /// <summary>Bytes of the three sections without the escape padding.</summary>
        public long ByteCount => Tiles.LongLength + 4L * TileOffsets.LongLength + Escapes.LongLength - EscapePadding;
    }

    /// <summary>The matrix view of a tensor: 2-D as it is, anything else as rows of 128 (tail padded).</summary>
    public static (int Rows, int Cols) MatrixView(ReadOnlySpan<long> shape, long elementCount)
    {
        if (shape.Length == 2) return (checked((int)shape[0]), checked((int)shape[1]));
        return (checked((int)((elementCount + TileCols - 1) / TileCols)), TileCols);
    }

    /// <summary>Start of the window of 7 consecutive exponents covering most weights (first such window; &lt;= 248).</summary>
    public static int ChooseBase(ReadOnlySpan<long> histogram)
    {
        int best = 0;
        long bestCount = -1;
        for (int b = 0; b <= 248; b++)
        {
            long c = 0;
            for (int k = 0; k < 7; k++) c += histogram[b + k];
            if (c > bestCount) { bestCount = c; best = b; }
        }
        return best;
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

    /// <summary>Weight index i of escape number e (escape order e = h*16 + p).</summary>
    private static int EscapeWeight(int e) => 2 * (e & 15) + (e >> 4);

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
        int groups = (rows + TileRows - 1) / TileRows, tilesPerRow = (cols + TileCols - 1) / TileCols;
        long tileCount = (long)groups * tilesPerRow;
        var tiles = new byte[checked(tileCount * tileBytes)];
        var offsets = new uint[tileCount + 1];
        var escapes = new List<byte>((int)Math.Min(int.MaxValue / 2, n / 16 + EscapePadding));
        Span<byte> escByte = stackalloc byte[32];
        Span<uint> words = stackalloc uint[3];
        for (long tile = 0; tile < tileCount; tile++)
        {
            int g = (int)(tile / tilesPerRow), t = (int)(tile % tilesPerRow);
            offsets[tile] = checked((uint)escapes.Count);
            Span<byte> tp = tiles.AsSpan(checked((int)(tile * tileBytes)), tileBytes);
            for (int lane = 0; lane < 32; lane++)
            {
                words.Clear();
                uint escMask = 0;  // bit i: weight i is an escape
                for (int i = 0; i < WeightsPerLane; i++)
                {
                    long row = g * TileRows + (i >> 2), col = t * TileCols + 4 * lane + (i & 3);
                    long idx = row * cols + col;
                    bool inside = row < rows && col < cols && idx < n;
                    uint v = inside ? FloatFields.Load(data, idx, eb) : 0;
                    int exponent = FloatFields.Exponent(dt, v);
                    FloatFields.StoreRest(tp, RestIndex(lane, i), rb, FloatFields.Rest(dt, v));
                    int code = inside ? exponent - baseExp : 0;
                    if (code is < 0 or > 6)
                    {
                        code = 7;
                        escMask |= 1u << i;
                        escByte[i] = (byte)exponent;
                    }
                    for (int j = 0; j < 3; j++)
                        if (((code >> j) & 1) != 0)
                        {
                            (int word, int bit) = CodeBits[3 * i + j];
                            words[word] |= 1u << bit;
                        }
                }
                for (int e = 0; escMask != 0 && e < 32; e++)
                {
                    int i = EscapeWeight(e);
                    if ((escMask >> i & 1) != 0) escapes.Add(escByte[i]);
                }
                int planes = 1024 * rb;
                for (int j = 0; j < 3; j++) BinaryPrimitives.WriteUInt32LittleEndian(tp.Slice(planes + 128 * j + 4 * lane, 4), words[j]);
            }
        }
        offsets[tileCount] = checked((uint)escapes.Count);
        for (int k = 0; k < EscapePadding; k++) escapes.Add(0);
        return new Encoded(rows, cols, baseExp, tiles, offsets, escapes.ToArray(), rb);
    }

    /// <summary>Decodes BF16 into <paramref name="destination"/> (the first destination.Length values of the view).</summary>
    /// <exception cref="CorruptTensorException">Sections inconsistent with each other.</exception>
    public static void Decode(Encoded e, Span<ushort> destination, string tensorName) =>
        Decode(e.Rows, e.Cols, e.Base, e.Tiles, e.TileOffsets, e.Escapes.AsSpan(0, e.Escapes.Length - EscapePadding), TensorDType.BF16,
            MemoryMarshal.AsBytes(destination), tensorName);

    /// <summary>
    /// Decodes the sections (escape stream without its padding) into <paramref name="destination"/>: the first
    /// destination.Length / element size values of the [rows, cols] view, of type <paramref name="dt"/>.
    /// </summary>
    /// <exception cref="CorruptTensorException">Sections inconsistent with each other.</exception>
    public static unsafe void Decode(int rows, int cols, int baseExp, ReadOnlySpan<byte> tiles, ReadOnlySpan<uint> tileOffsets, ReadOnlySpan<byte> escapes,
        TensorDType dt, Span<byte> destination, string tensorName)
    {
        int eb = dt.ByteSize(), rb = FloatFields.RestBytes(dt), tileBytes = TileBytesOf(rb);
        int groups = (rows + TileRows - 1) / TileRows, tilesPerRow = (cols + TileCols - 1) / TileCols;
        long tileCount = (long)groups * tilesPerRow, n = destination.Length / eb;
        if (tiles.Length != tileCount * tileBytes) throw new CorruptTensorException(tensorName, $"fixed tiles: {tiles.Length} bytes, expected {tileCount * tileBytes}");
        if (tileOffsets.Length != tileCount + 1) throw new CorruptTensorException(tensorName, $"fixed tile offsets: {tileOffsets.Length} entries, expected {tileCount + 1}");
        if (baseExp is < 0 or > 248) throw new CorruptTensorException(tensorName, $"fixed base exponent {baseExp} outside 0..248");
        if (n > (long)rows * cols) throw new ArgumentException("destination larger than the matrix view");
        if (tileOffsets[0] != 0 || tileOffsets[(int)tileCount] != escapes.Length)
            throw new CorruptTensorException(tensorName, $"fixed tile offsets span {tileOffsets[0]}..{tileOffsets[(int)tileCount]}, the escape stream holds {escapes.Length} bytes");
        var v = new View(rows, cols, baseExp, dt, tilesPerRow);
        string? bad = null;
        if (tileCount * 1024 < 1 << 18)
        {
            for (long tile = 0; tile < tileCount && bad == null; tile++) bad = DecodeTile(v, tile, tiles, tileOffsets, escapes, destination);
        }
        else
        {
            // Row groups in parallel (large tensors); spans are rebuilt from pinned addresses in each worker.
            fixed (byte* pt = tiles)
            fixed (uint* po = tileOffsets)
            fixed (byte* pe = escapes)
            fixed (byte* pd = destination)
            {
                nint at = (nint)pt, ao = (nint)po, ae = (nint)pe, ad = (nint)pd;
                int lt = tiles.Length, lo = tileOffsets.Length, le = escapes.Length, ld = destination.Length;
                Parallel.For(0, groups, (g, state) =>
                {
                    for (long tile = (long)g * tilesPerRow; tile < (long)(g + 1) * tilesPerRow; tile++)
                    {
                        string? e = DecodeTile(v, tile, new ReadOnlySpan<byte>((void*)at, lt), new ReadOnlySpan<uint>((void*)ao, lo),
                            new ReadOnlySpan<byte>((void*)ae, le), new Span<byte>((void*)ad, ld));
                        if (e == null) continue;
                        Interlocked.CompareExchange(ref bad, e, null);
                        state.Stop();
                        return;
                    }
                });
            }
        }
        if (bad != null) throw new CorruptTensorException(tensorName, bad);
    }

    /// <summary>
    /// Checks that the tile offsets agree with the tiles' codes: offsets start at 0, end at <paramref name="escapeCount"/> and
    /// never decrease, and each tile's offsets span exactly its escape codes (codes equal to 7). A GPU decoder reads a tile's
    /// escapes from its offset on without bounds checks, so this is what keeps it inside the escape stream. No element is
    /// formed: a pass over the code planes (three words a lane, a popcount each).
    /// </summary>
    /// <exception cref="CorruptTensorException">The offsets and the codes disagree.</exception>
    public static void CheckEscapeOffsets(int rows, int cols, TensorDType dt, ReadOnlySpan<byte> tiles, ReadOnlySpan<uint> tileOffsets, long escapeCount,
        string tensorName)
    {
        int planes = 1024 * FloatFields.RestBytes(dt), tileBytes = TileBytesOf(FloatFields.RestBytes(dt));
        long tileCount = (long)((rows + TileRows - 1) / TileRows) * ((cols + TileCols - 1) / TileCols);
        if (tiles.Length != tileCount * tileBytes || tileOffsets.Length != tileCount + 1)
            throw new CorruptTensorException(tensorName, $"fixed sections: {tiles.Length} tile bytes and {tileOffsets.Length} offsets for {tileCount} tiles");
        if (tileOffsets[0] != 0 || tileOffsets[(int)tileCount] != escapeCount)
            throw new CorruptTensorException(tensorName, $"fixed tile offsets span {tileOffsets[0]}..{tileOffsets[(int)tileCount]}, the escape stream holds {escapeCount} bytes");
        for (int tile = 0; tile < tileCount; tile++)
        {
            ReadOnlySpan<byte> codes = tiles.Slice(tile * tileBytes + planes, CodePlaneBytes);
            int escapes = 0;
            for (int lane = 0; lane < 32; lane++)
            {
                uint c0 = BinaryPrimitives.ReadUInt32LittleEndian(codes[(4 * lane)..]);
                uint c1 = BinaryPrimitives.ReadUInt32LittleEndian(codes[(128 + 4 * lane)..]);
                uint c2 = BinaryPrimitives.ReadUInt32LittleEndian(codes[(256 + 4 * lane)..]);
                escapes += EscapeCodes(c0) + EscapeCodes(c1) + EscapeCodes(c2) + BitOperations.PopCount(c0 & c1 & c2 & 0x80008000u);
            }
            uint first = tileOffsets[tile], next = tileOffsets[tile + 1];
            if (next < first || next - first != escapes)
                throw new CorruptTensorException(tensorName, $"fixed tile {tile}: {escapes} escape codes, its offsets {first}..{next} give {(long)next - first}");
        }
    }

    /// <summary>Codes equal to 7 among a code word's pairs 0..14 (three consecutive bits from bits 0, 3, .., 12 of each half, see <see cref="CodeBit"/>).</summary>
    private static int EscapeCodes(uint c) => BitOperations.PopCount(c & (c >> 1) & (c >> 2) & 0x12491249u);

    private readonly record struct View(int Rows, int Cols, int Base, TensorDType DType, int TilesPerRow);

    /// <summary>Decodes one tile into its place in <paramref name="destination"/>; returns what is wrong with it, or null.</summary>
    private static string? DecodeTile(View v, long tile, ReadOnlySpan<byte> tiles, ReadOnlySpan<uint> tileOffsets, ReadOnlySpan<byte> escapes, Span<byte> destination)
    {
        int eb = v.DType.ByteSize(), rb = FloatFields.RestBytes(v.DType), tileBytes = TileBytesOf(rb), planes = 1024 * rb;
        long n = destination.Length / eb;
        Span<int> exps = stackalloc int[32];
        int g = (int)(tile / v.TilesPerRow), t = (int)(tile % v.TilesPerRow);
        uint eo = tileOffsets[(int)tile], next = tileOffsets[(int)tile + 1];
        if (next < eo || next > escapes.Length) return $"fixed tile {tile}: escape offsets {eo}..{next} outside 0..{escapes.Length}";
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
                exps[i] = code == 7 ? -1 : v.Base + code;
            }
            for (int x = 0; x < 32; x++)
            {
                int i = EscapeWeight(x);
                if (exps[i] >= 0) continue;
                if (eo >= next) return $"fixed tile {tile}: more escapes than its offsets allow";
                exps[i] = escapes[(int)eo++];
            }
            for (int i = 0; i < WeightsPerLane; i++)
            {
                long row = g * TileRows + (i >> 2), col = t * TileCols + 4 * lane + (i & 3);
                if (row >= v.Rows || col >= v.Cols) continue;
                long idx = row * v.Cols + col;
                if (idx >= n) continue;
                uint rest = FloatFields.LoadRest(tp, RestIndex(lane, i), rb);
                FloatFields.Store(destination, idx, eb, FloatFields.Join(v.DType, (byte)exps[i], rest));
            }
        }
        return eo != next ? $"fixed tile {tile}: {next - eo} escape bytes unused" : null;
    }
}
