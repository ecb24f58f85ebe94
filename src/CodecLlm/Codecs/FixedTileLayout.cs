using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>
/// The BF16 tile layout read by the fused decode+matvec kernel (Backends/Cuda/Kernels/fused_matvec.cu),
/// specified in docs/FIXED_LAYOUT.md: 8x128 tiles of 1408 bytes (sign/mantissa bytes + three 3-bit code
/// planes), code c &lt; 7 = exponent base + c, code 7 = escape byte in a separate stream with per-tile offsets.
/// Pure functions over arrays; the codec's blob header is not part of this class.
/// </summary>
public static class FixedTileLayout
{
    public const int TileRows = 8;
    public const int TileCols = 128;
    public const int TileBytes = 1408;
    public const int EscapePadding = 8;

    /// <summary>The three sections of an encoded matrix. <see cref="Escapes"/> ends with 8 zero padding bytes.</summary>
    public sealed record Encoded(int Rows, int Cols, int Base, byte[] Tiles, uint[] TileOffsets, byte[] Escapes)
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
    public static int ChooseBase(ReadOnlySpan<ushort> weights)
    {
        Span<long> hist = stackalloc long[256];
        foreach (ushort w in weights) hist[(w >> 7) & 0xff]++;
        int best = 0;
        long bestCount = -1;
        for (int b = 0; b <= 248; b++)
        {
            long c = 0;
            for (int k = 0; k < 7; k++) c += hist[b + k];
            if (c > bestCount) { bestCount = c; best = b; }
        }
        return best;
    }

    /// <summary>Word (0..2) and bit of code bit <paramref name="j"/> of pair <paramref name="p"/>, half <paramref name="h"/>.</summary>
    private static (int Word, int Bit) CodeBit(int p, int h, int j) =>
        p < 15 ? (p % 3, h * 16 + 3 * (p / 3) + j) : (j, h * 16 + 15);

    /// <summary>Encodes BF16 values (bit patterns) viewed as [rows, cols], row-major; missing tail values are padding.</summary>
    public static Encoded Encode(ReadOnlySpan<ushort> weights, int rows, int cols)
    {
        if ((long)rows * cols < weights.Length) throw new ArgumentException($"{weights.Length} values do not fit a [{rows}, {cols}] view");
        int baseExp = ChooseBase(weights);
        int groups = (rows + TileRows - 1) / TileRows, tilesPerRow = (cols + TileCols - 1) / TileCols;
        long tileCount = (long)groups * tilesPerRow;
        var tiles = new byte[checked(tileCount * TileBytes)];
        var offsets = new uint[tileCount + 1];
        var escapes = new List<byte>(weights.Length / 16 + EscapePadding);
        Span<byte> escByte = stackalloc byte[32];
        Span<uint> words = stackalloc uint[3];
        for (long tile = 0; tile < tileCount; tile++)
        {
            int g = (int)(tile / tilesPerRow), t = (int)(tile % tilesPerRow);
            offsets[tile] = (uint)escapes.Count;
            Span<byte> tp = tiles.AsSpan(checked((int)(tile * TileBytes)), TileBytes);
            for (int lane = 0; lane < 32; lane++)
            {
                words.Clear();
                uint escMask = 0;  // bit i: weight i is an escape
                for (int i = 0; i < 32; i++)
                {
                    long row = g * TileRows + (i >> 2), col = t * TileCols + 4 * lane + (i & 3);
                    long idx = row * cols + col;
                    bool inside = row < rows && col < cols && idx < weights.Length;
                    ushort v = inside ? weights[(int)idx] : (ushort)0;
                    int exponent = (v >> 7) & 0xff;
                    tp[32 * lane + i] = (byte)(((v >> 8) & 0x80) | (v & 0x7f));
                    int code = inside ? exponent - baseExp : 0;
                    if (code < 0 || code > 6)
                    {
                        code = 7;
                        escMask |= 1u << i;
                        escByte[i] = (byte)exponent;
                    }
                    for (int j = 0; j < 3; j++)
                    {
                        (int word, int bit) = CodeBit(i >> 1, i & 1, j);
                        if (((code >> j) & 1) != 0) words[word] |= 1u << bit;
                    }
                }
                for (int e = 0; e < 32; e++)  // escape order: e = h*16 + p
                {
                    int i = 2 * (e & 15) + (e >> 4);
                    if ((escMask >> i & 1) != 0) escapes.Add(escByte[i]);
                }
                for (int j = 0; j < 3; j++) BitConverter.TryWriteBytes(tp.Slice(1024 + 128 * j + 4 * lane, 4), words[j]);
            }
        }
        offsets[tileCount] = (uint)escapes.Count;
        for (int k = 0; k < EscapePadding; k++) escapes.Add(0);
        return new Encoded(rows, cols, baseExp, tiles, offsets, escapes.ToArray());
    }

    /// <summary>Decodes into <paramref name="destination"/> (the first destination.Length values of the view).</summary>
    /// <exception cref="CorruptTensorException">Sections inconsistent with each other.</exception>
    public static void Decode(Encoded e, Span<ushort> destination, string tensorName)
    {
        long tileCount = (long)e.RowGroups * e.ColTiles;
        if (e.Tiles.LongLength != tileCount * TileBytes) throw new CorruptTensorException(tensorName, $"fixed tiles: {e.Tiles.LongLength} bytes, expected {tileCount * TileBytes}");
        if (e.TileOffsets.LongLength != tileCount + 1) throw new CorruptTensorException(tensorName, $"fixed tile offsets: {e.TileOffsets.LongLength} entries, expected {tileCount + 1}");
        if (e.Base is < 0 or > 248) throw new CorruptTensorException(tensorName, $"fixed base exponent {e.Base} outside 0..248");
        if (destination.Length > (long)e.Rows * e.Cols) throw new ArgumentException("destination larger than the matrix view");
        long escapeCount = e.Escapes.LongLength - EscapePadding;
        Span<int> exps = stackalloc int[32];
        for (long tile = 0; tile < tileCount; tile++)
        {
            int g = (int)(tile / e.ColTiles), t = (int)(tile % e.ColTiles);
            uint eo = e.TileOffsets[tile], next = e.TileOffsets[tile + 1];
            if (next < eo || next > escapeCount) throw new CorruptTensorException(tensorName, $"fixed tile {tile}: escape offsets {eo}..{next} outside 0..{escapeCount}");
            ReadOnlySpan<byte> tp = e.Tiles.AsSpan(checked((int)(tile * TileBytes)), TileBytes);
            for (int lane = 0; lane < 32; lane++)
            {
                uint w0 = BitConverter.ToUInt32(tp.Slice(1024 + 4 * lane, 4));
                uint w1 = BitConverter.ToUInt32(tp.Slice(1152 + 4 * lane, 4));
                uint w2 = BitConverter.ToUInt32(tp.Slice(1280 + 4 * lane, 4));
                for (int i = 0; i < 32; i++)
                {
                    int code = 0;
                    for (int j = 0; j < 3; j++)
                    {
                        (int word, int bit) = CodeBit(i >> 1, i & 1, j);
                        uint w = word == 0 ? w0 : word == 1 ? w1 : w2;
                        code |= (int)((w >> bit) & 1) << j;
                    }
                    exps[i] = code == 7 ? -1 : e.Base + code;
                }
                for (int x = 0; x < 32; x++)
                {
                    int i = 2 * (x & 15) + (x >> 4);
                    if (exps[i] >= 0) continue;
                    if (eo >= next) throw new CorruptTensorException(tensorName, $"fixed tile {tile}: more escapes than its offsets allow");
                    exps[i] = e.Escapes[eo++];
                }
                for (int i = 0; i < 32; i++)
                {
                    long row = g * TileRows + (i >> 2), col = t * TileCols + 4 * lane + (i & 3);
                    if (row >= e.Rows || col >= e.Cols) continue;
                    long idx = row * e.Cols + col;
                    if (idx >= destination.Length) continue;
                    byte sm = tp[32 * lane + i];
                    destination[(int)idx] = (ushort)(((sm & 0x80) << 8) | (exps[i] << 7) | (sm & 0x7f));
                }
            }
            if (eo != next) throw new CorruptTensorException(tensorName, $"fixed tile {tile}: {next - eo} escape bytes unused");
        }
    }
}
