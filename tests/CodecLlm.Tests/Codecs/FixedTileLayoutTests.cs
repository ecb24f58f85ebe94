using CodecLlm.Codecs;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;

namespace CodecLlm.Tests.Codecs;

public class FixedTileLayoutTests
{
    [Fact]
    public void HandEncodedTile_MatchesTheDocumentedLayout()
    {
        // 1.0 (exp 127), -2.0 (exp 128, sign), 2^-100 (exp 27): the first window of 7 holding both 127
        // and 128 starts at 122, so codes are 5, 6 and 7 (escape, byte 27).
        ushort[] w = [0x3F80, 0xC000, 0x0D80];
        var e = FixedTileLayout.Encode(w, 1, 3);
        Assert.Equal(122, e.Base);
        Assert.Equal(FixedTileLayout.TileBytes, e.Tiles.Length);
        Assert.Equal(0x00, e.Tiles[0]);   // lane 0, weight 0: sign 0, mantissa 0
        Assert.Equal(0x80, e.Tiles[1]);   // weight 1: sign bit
        // pair 0 (weights 0, 1): word 0, bits 0..2 = 5 and 16..18 = 6
        Assert.Equal(0x00060005u, BitConverter.ToUInt32(e.Tiles, 1024));
        // pair 1 (weight 2 lo): word 1, bits 0..2 = 7
        Assert.Equal(7u, BitConverter.ToUInt32(e.Tiles, 1152));
        Assert.Equal(0u, BitConverter.ToUInt32(e.Tiles, 1280));
        Assert.Equal([0u, 1u], e.TileOffsets);
        Assert.Equal(27, e.Escapes[0]);
        Assert.Equal(1 + FixedTileLayout.EscapePadding, e.Escapes.Length);
    }

    [Fact]
    public void Pair15_UsesTheSpareBitsOfTheThreeWords()
    {
        // weights 30, 31 of lane 0 = row 7, columns 2 and 3 (pair 15)
        var w = new ushort[8 * 128];
        for (int i = 0; i < w.Length; i++) w[i] = 0x3F80;                      // exp 127
        w[7 * 128 + 2] = 0x4000;                                             // exp 128
        w[7 * 128 + 3] = 0x4080;                                             // exp 129
        var e = FixedTileLayout.Encode(w, 8, 128);
        Assert.Equal(123, e.Base);                                           // first 7-window holding 127..129
        uint[] words = [BitConverter.ToUInt32(e.Tiles, 1024), BitConverter.ToUInt32(e.Tiles, 1152), BitConverter.ToUInt32(e.Tiles, 1280)];
        int lo = 0, hi = 0;
        for (int j = 0; j < 3; j++)
        {
            lo |= (int)((words[j] >> 15) & 1) << j;
            hi |= (int)((words[j] >> 31) & 1) << j;
        }
        Assert.Equal(128 - 123, lo);
        Assert.Equal(129 - 123, hi);
        Assert.Equal(FixedTileLayout.EscapePadding, e.Escapes.Length);  // no escapes
    }

    [Fact]
    public void LaneRestFieldsSitInTwoHalves()
    {
        // row 5, column 12 of an 8x128 tile: lane 12/4 = 3, weight 5*4 + 0 = 20 (the second half: weights 16..31),
        // sign/mantissa byte 512 + 16*3 + 4 = 564
        var w = new ushort[8 * 128];
        for (int i = 0; i < w.Length; i++) w[i] = 0x3F80;  // 1.0
        w[5 * 128 + 12] = 0xBFC0;                          // -1.5: sign and mantissa 0x40
        var e = FixedTileLayout.Encode(w, 8, 128);
        for (int b = 0; b < 1024; b++) Assert.Equal(b == 564 ? 0xC0 : 0x00, e.Tiles[b]);
    }

    [Fact]
    public void F32RestFieldsSitInTwoHalvesOfThreeByteFields()
    {
        // as above with 3-byte rests (bit 23 = sign, bits 22..0 = mantissa): weight 20 of lane 3 at field 564, bytes 3*564 = 1692..1694
        var w = new float[8 * 128];
        Array.Fill(w, 1.0f);
        w[5 * 128 + 12] = -1.5f;  // sign 1, mantissa 0x400000: rest 0xC00000
        var e = FixedTileLayout.Encode(System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()), TensorDType.F32, 8, 128);
        Assert.Equal(3, e.RestBytes);
        for (int b = 0; b < 3 * 1024; b++) Assert.Equal(b == 1694 ? 0xC0 : 0x00, e.Tiles[b]);
    }

    // +0, -0, +Inf, -Inf, a NaN payload, the smallest subnormals, the largest finite
    private static readonly ushort[] Specials = [0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC1, 0x0001, 0x8001, 0x7F7F];

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 0, 0, 0 }, { 1, 1, 1 }, { 1, 3, 2 }, { 13, 200, 3 }, { 9, 130, 4 }, { 37, 1000, 5 }, { 8, 128, 6 }, { 300, 333, 7 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RoundTrip_Gaussian_RandomBits_AndSpecialValues(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        foreach (int kind in new[] { 0, 1, 2 })
        {
            var w = new ushort[rows * cols];
            for (int i = 0; i < w.Length; i++)
            {
                float f = (float)(0.02 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
                w[i] = kind switch
                {
                    0 => (ushort)(BitConverter.SingleToUInt32Bits(f) >> 16),
                    1 => (ushort)rng.Next(65536),
                    _ => Specials[i % Specials.Length],
                };
            }
            var e = FixedTileLayout.Encode(w, rows, cols);
            var back = new ushort[w.Length];
            FixedTileLayout.Decode(e, back, "t");
            Assert.Equal(w, back);
        }
    }

    [Fact]
    public void FlatView_RoundTripsA1DTensor()
    {
        var w = new ushort[1000];
        for (int i = 0; i < w.Length; i++) w[i] = (ushort)(0x3C00 + i * 7);
        (int rows, int cols) = FixedTileLayout.MatrixView([1000], 1000);
        Assert.Equal((8, 128), (rows, cols));
        var back = new ushort[w.Length];
        FixedTileLayout.Decode(FixedTileLayout.Encode(w, rows, cols), back, "t");
        Assert.Equal(w, back);
    }

    [Fact]
    public void InconsistentOffsets_ThrowCorruptTensor()
    {
        ushort[] w = [0x3F80, 0xC000, 0x0D80];
        var e = FixedTileLayout.Encode(w, 1, 3);
        var bad = e with { TileOffsets = [0u, 0u] };  // the tile's escape has no byte
        var ex = Assert.Throws<CorruptTensorException>(() => FixedTileLayout.Decode(bad, new ushort[3], "blk.0.wq"));
        Assert.Contains("blk.0.wq", ex.Message);
        var bad2 = e with { TileOffsets = [0u, 5u] };  // past the stream
        Assert.Throws<CorruptTensorException>(() => FixedTileLayout.Decode(bad2, new ushort[3], "t"));
    }

    [Fact]
    public void Arctic_RoundTripsEveryTensor_Under11_30BitsPerWeight()
    {
        if (!File.Exists(TestPaths.ArcticBf16)) Assert.Skip("arctic-embed-xs not found at " + TestPaths.ArcticBf16);
        using var file = SafetensorsFile.Open(TestPaths.ArcticBf16);
        long weights = 0, bytes = 0;
        ulong fnv = 1469598103934665603ul;
        void Mix(ReadOnlySpan<byte> b)
        {
            foreach (byte x in b) { fnv ^= x; fnv *= 1099511628211ul; }
        }
        foreach (var entry in file.Entries)
        {
            if (entry.DType != "BF16") continue;
            ReadOnlySpan<byte> raw = file.File.Slice(file.DataStart + entry.Begin, entry.End - entry.Begin);
            ushort[] w = new ushort[raw.Length / 2];
            for (int i = 0; i < w.Length; i++) w[i] = BitConverter.ToUInt16(raw.Slice(2 * i, 2));
            (int rows, int cols) = FixedTileLayout.MatrixView(entry.Shape, w.Length);
            var e = FixedTileLayout.Encode(w, rows, cols);
            var back = new ushort[w.Length];
            FixedTileLayout.Decode(e, back, entry.Name);
            Assert.True(w.AsSpan().SequenceEqual(back), entry.Name);
            Mix(e.Tiles);
            foreach (uint o in e.TileOffsets) Mix(BitConverter.GetBytes(o));
            Mix(e.Escapes);
            weights += w.Length;
            bytes += e.ByteCount + 16;  // + a 16-byte blob header per tensor
        }
        // Same bytes as the C++ reference encoder (dev/cuda/arctic_bits.cpp), whose output the H100 kernel
        // checks were run on: FNV-1a over tiles, offsets and escapes of every BF16 tensor in file order.
        Assert.Equal(0x6435789bc15ba4f5ul, fnv);  // layout version 3
        double bits = 8.0 * bytes / weights;
        Assert.True(bits <= 11.30, $"fixed tile layout: {bits:F4} bits/weight on arctic-embed-xs");
        Assert.True(bits > 11.0, $"implausibly small: {bits:F4}");  // 8 + 3 bits/weight is the floor of this layout
    }

    /// <summary>
    /// The escape-offset check a GPU upload runs: the encoder's own offsets pass (tiles with every mix of escapes), and it
    /// fails when a code turns into an escape, when an escape code turns into an ordinary code, or when an offset moves.
    /// </summary>
    [Fact]
    public void EscapeOffsetCheck_AcceptsTheEncodersOffsetsAndRejectsEachKindOfCorruption()
    {
        var rng = new Random(11);
        int rows = 37, cols = 300;
        var w = new ushort[rows * cols];
        // Exponents spread over ~20 values: many escapes in every tile, pair 15 included.
        for (int i = 0; i < w.Length; i++) w[i] = (ushort)((rng.Next(2) << 15) | ((117 + rng.Next(20)) << 7) | rng.Next(128));
        var e = FixedTileLayout.Encode(w, rows, cols);
        long escapes = e.Escapes.Length - FixedTileLayout.EscapePadding;
        Assert.True(escapes > 1000);
        void Check(byte[] tiles, uint[] offsets) => FixedTileLayout.CheckEscapeOffsets(rows, cols, TensorDType.BF16, tiles, offsets, escapes, "t");
        Check(e.Tiles, e.TileOffsets);

        // Lane 5 of tile 2: set pair 15's low code to 7 where it is not (an extra escape), or clear an escape's bit.
        int tileBytes = FixedTileLayout.TileBytes, codes = 2 * tileBytes + 1024 + 4 * 5;
        uint[] words = [BitConverter.ToUInt32(e.Tiles, codes), BitConverter.ToUInt32(e.Tiles, codes + 128), BitConverter.ToUInt32(e.Tiles, codes + 256)];
        bool isEscape = (words[0] & words[1] & words[2] & 0x8000u) != 0;
        byte[] changed = (byte[])e.Tiles.Clone();
        for (int j = 0; j < 3; j++)
        {
            uint v = isEscape ? words[j] & ~(j == 0 ? 0x8000u : 0u) : words[j] | 0x8000u;
            BitConverter.TryWriteBytes(changed.AsSpan(codes + 128 * j, 4), v);
        }
        var ex = Assert.Throws<CorruptTensorException>(() => Check(changed, e.TileOffsets));
        Assert.Contains("fixed tile 2", ex.Message);

        uint[] shifted = (uint[])e.TileOffsets.Clone();
        shifted[3]++;
        Assert.Throws<CorruptTensorException>(() => Check(e.Tiles, shifted));
        uint[] ends = (uint[])e.TileOffsets.Clone();
        ends[^1]--;
        Assert.Throws<CorruptTensorException>(() => Check(e.Tiles, ends));
    }
}
