using CodecLlm.Codecs;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;
using CsCheck;

namespace CodecLlm.Tests.Codecs;

public class FixedTileLayoutTests
{
    [Fact]
    public void HandEncodedTile_MatchesTheDocumentedLayout()
    {
        // 1.0 (exp 127), -2.0 (exp 128, sign), 2^-100 (exp 27): the first window of 8 holding both 127 and 128
        // starts at 121, so codes are 6 and 7; weight 2 is an exception: code 0 and delta 27 ^ 121 = 0x1B ^ 0x79 = 0x62 (98).
        ushort[] w = [0x3F80, 0xC000, 0x0D80];
        var e = FixedTileLayout.Encode(w, 1, 3);
        Assert.Equal(121, e.Base);
        Assert.Equal(FixedTileLayout.TileBytes, e.Tiles.Length);
        Assert.Equal(0x00, e.Tiles[0]);   // lane 0, weight 0: sign 0, mantissa 0
        Assert.Equal(0x80, e.Tiles[1]);   // weight 1: sign bit
        // pair 0 (weights 0, 1): word 0, bits 0..2 = 6 and 16..18 = 7 (an ordinary code)
        Assert.Equal(0x00070006u, BitConverter.ToUInt32(e.Tiles, 1024));
        // pair 1 (weight 2 lo): word 1, bits 0..2 = 0 (the exception's code)
        Assert.Equal(0u, BitConverter.ToUInt32(e.Tiles, 1152));
        Assert.Equal(0u, BitConverter.ToUInt32(e.Tiles, 1280));
        Assert.Equal([0u, 1u], e.TileOffsets);
        // Table: slot 0 = the only delta, 0x62; slots 1..55 unused (0); slots 56..63 = 1, 2, 4, .., 128.
        byte[] table = new byte[64];
        table[0] = 0x62;
        table[56] = 1; table[57] = 2; table[58] = 4; table[59] = 8; table[60] = 16; table[61] = 32; table[62] = 64; table[63] = 128;
        Assert.Equal(table, e.Escapes[..64]);
        // One entry: position 32*0 + 2, slot 0 = 0x0002; then 8 zero padding bytes.
        Assert.Equal(new byte[] { 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0 }, e.Escapes[64..]);
        Assert.Equal(1, e.EntryCount);
        var back = new ushort[3];
        FixedTileLayout.Decode(e, back, "t");
        Assert.Equal(w, back);
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
        Assert.Equal(122, e.Base);                                           // first 8-window holding 127..129
        uint[] words = [BitConverter.ToUInt32(e.Tiles, 1024), BitConverter.ToUInt32(e.Tiles, 1152), BitConverter.ToUInt32(e.Tiles, 1280)];
        int lo = 0, hi = 0;
        for (int j = 0; j < 3; j++)
        {
            lo |= (int)((words[j] >> 15) & 1) << j;
            hi |= (int)((words[j] >> 31) & 1) << j;
        }
        Assert.Equal(128 - 122, lo);
        Assert.Equal(129 - 122, hi);                                         // 7: an exponent, not an escape
        Assert.Equal(64 + FixedTileLayout.EscapePadding, e.Escapes.Length);  // the table only: no exceptions
        Assert.Equal([0u, 0u], e.TileOffsets);
    }

    /// <summary>
    /// 58 exceptions with 57 distinct deltas: the most frequent delta takes slot 0, the next 55 (ties: smaller first) slots
    /// 1..55, and the one left over is written bit by bit with the basis slots 56..63.
    /// </summary>
    [Fact]
    public void ADeltaOutsideTheTable_GetsOneEntryPerSetBit()
    {
        var w = new ushort[8 * 128];
        Array.Fill(w, (ushort)0x3F80);                       // 1.0, exp 127
        w[1] = 0x4300;                                       // 128.0, exp 134: only the window 127..134 holds both
        for (int x = 0; x <= 56; x++) w[128 + x] = (ushort)(x << 7);  // row 1, column x: exponent x (x = 0: +0.0)
        w[2 * 128] = 0x0000;                                 // row 2, column 0: exponent 0 a second time
        var e = FixedTileLayout.Encode(w, 8, 128);
        Assert.Equal(127, e.Base);
        // Delta of exponent x = x ^ 127 = 127 - x: exponent 0 -> 127 (twice: slot 0); 56..2 -> 71..125 (once each, slots 1..55,
        // ascending delta); exponent 1 -> 126 (once, the largest delta: no slot left) = 0b0111_1110 -> slots 57..62.
        byte[] table = new byte[64];
        table[0] = 127;
        for (int s = 1; s <= 55; s++) table[s] = (byte)(70 + s);
        for (int b = 0; b < 8; b++) table[56 + b] = (byte)(1 << b);
        Assert.Equal(table, e.Escapes[..64]);
        // Row 1, column x = lane x/4, weight 4 + x%4: position 32 (x/4) + 4 + x%4; row 2, column 0 = lane 0, weight 8.
        // Entry = position | slot << 10, by ascending position, a split delta's entries by ascending slot.
        ushort[] entries = new ushort[e.EntryCount];
        for (int k = 0; k < entries.Length; k++) entries[k] = BitConverter.ToUInt16(e.Escapes, 64 + 2 * k);
        ushort[] first =
        [
            0x0004,                                          // exponent 0 at position 4, slot 0
            0xE405, 0xE805, 0xEC05, 0xF005, 0xF405, 0xF805,  // exponent 1 at position 5, slots 57..62
            0xDC06,                                          // exponent 2 at position 6, delta 125 in slot 55
            0xD807,                                          // exponent 3 at position 7, delta 124 in slot 54
            0x0008,                                          // exponent 0 again at position 8, slot 0
            0xD424,                                          // exponent 4 at position 36 (lane 1, weight 4), delta 123 in slot 53
        ];
        Assert.Equal(first, entries[..first.Length]);
        Assert.Equal(0x05C4, entries[^1]);                   // exponent 56 at position 452 (lane 14, weight 4), delta 71 in slot 1
        Assert.Equal(63, entries.Length);                    // 58 exceptions, one of them in 6 entries
        Assert.Equal([0u, 63u], e.TileOffsets);
        Assert.Equal(64 + 2 * 63 + 8, e.Escapes.Length);
        // Lane 0's word 0: pair 0 = weights 0 (1.0: code 0) and 1 (exp 134: code 7); its other pairs (3, 6, 9, 12) code 0.
        Assert.Equal(0x00070000u, BitConverter.ToUInt32(e.Tiles, 1024));
        var back = new ushort[w.Length];
        FixedTileLayout.Decode(e, back, "t");
        Assert.Equal(w, back);
    }

    /// <summary>Every exponent of BF16 and F32 present (248 deltas outside the window, most of them split into basis entries).</summary>
    [Theory]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F32)]
    public void EveryExponent_RoundTrips(TensorDType dt)
    {
        var rng = new Random(3);
        int rows = 16, cols = 256;
        byte[] data = new byte[rows * cols * dt.ByteSize()];
        for (int i = 0; i < rows * cols; i++)
        {
            uint v = (uint)rng.NextInt64(0, 1L << 32);
            v = dt == TensorDType.BF16 ? (v & 0x807F) | (uint)(i % 256) << 7 : (v & 0x807FFFFF) | (uint)(i % 256) << 23;
            FloatFields.Store(data, i, dt.ByteSize(), v);
        }
        var e = FixedTileLayout.Encode(data, dt, rows, cols);
        Assert.True(e.EntryCount > 2 * (rows * cols - rows * cols / 32), $"{e.EntryCount} entries: expected most deltas split into bits");
        byte[] back = new byte[data.Length];
        FixedTileLayout.Decode(e.Rows, e.Cols, e.Base, e.Tiles, e.TileOffsets, e.Escapes.AsSpan(0, e.Escapes.Length - FixedTileLayout.EscapePadding), dt, back, "t");
        Assert.Equal(data, back);
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
        var bad = e with { TileOffsets = [0u, 0u] };  // the section's entry lies outside every tile
        var ex = Assert.Throws<CorruptTensorException>(() => FixedTileLayout.Decode(bad, new ushort[3], "blk.0.wq"));
        Assert.Contains("blk.0.wq", ex.Message);
        var bad2 = e with { TileOffsets = [0u, 5u] };  // past the section's 1 entry
        Assert.Throws<CorruptTensorException>(() => FixedTileLayout.Decode(bad2, new ushort[3], "t"));
        var bad3 = e with { Escapes = e.Escapes[..^1] };  // 64 + 1 bytes + padding: not whole entries
        Assert.Throws<CorruptTensorException>(() => FixedTileLayout.Decode(bad3, new ushort[3], "t"));
        var bad4 = e with { Escapes = new byte[63 + FixedTileLayout.EscapePadding], TileOffsets = [0u, 0u] };  // no whole table
        Assert.Throws<CorruptTensorException>(() => FixedTileLayout.Decode(bad4, new ushort[3], "t"));
    }

    /// <summary>
    /// Decoders accept any entry: an entry at a padding weight (position 3 = lane 0, weight 3 = column 3 of a 3-column
    /// matrix) changes nothing, and a second entry at a weight XORs on top of the first.
    /// </summary>
    [Fact]
    public void AnyEntryIsValid_PaddingPositionsHaveNoEffect()
    {
        ushort[] w = [0x3F80, 0xC000, 0x0D80];
        var e = FixedTileLayout.Encode(w, 1, 3);
        byte[] escapes = [.. e.Escapes[..66], 0x03, 0xFC, .. new byte[FixedTileLayout.EscapePadding]];  // + position 3, slot 63
        var padded = e with { TileOffsets = [0u, 2u], Escapes = escapes };
        var back = new ushort[3];
        FixedTileLayout.Decode(padded, back, "t");
        Assert.Equal(w, back);
        // Position 0 (1.0, exponent 127), slot 56 (bit 0): exponent 126, 0.5.
        escapes[66] = 0x00;
        escapes[67] = 0xE0;
        FixedTileLayout.Decode(padded, back, "t");
        Assert.Equal([0x3F00, 0xC000, 0x0D80], back);
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
        // Same bytes as the independent C++ reference encoder (dev/cuda/arctic_bits.cpp with fixed_format.h, whose
        // output the kernel checks run on): FNV-1a over tiles, offsets and the escape section (table, entries, padding)
        // of every BF16 tensor in file order.
        Assert.Equal(0x2f42e87d9151d1a9ul, fnv);  // layout version 4
        double bits = 8.0 * bytes / weights;
        Assert.True(bits <= 11.30, $"fixed tile layout: {bits:F4} bits/weight on arctic-embed-xs");
        Assert.True(bits > 11.0, $"implausibly small: {bits:F4}");  // 8 + 3 bits/weight is the floor of this layout
    }

    /// <summary>
    /// The escape-offset check a GPU upload runs: the encoder's own offsets pass; offsets that start above 0, decrease, end
    /// early or overrun the entries fail, and so does a section that is not a 64-byte table and whole 2-byte entries. Codes
    /// need no check any more (every code is an exponent): a changed code passes.
    /// </summary>
    [Fact]
    public void EscapeOffsetCheck_AcceptsTheEncodersOffsetsAndRejectsEachKindOfCorruption()
    {
        var rng = new Random(11);
        int rows = 37, cols = 300;
        var w = new ushort[rows * cols];
        // Exponents spread over ~20 values: many exceptions in every tile.
        for (int i = 0; i < w.Length; i++) w[i] = (ushort)((rng.Next(2) << 15) | ((117 + rng.Next(20)) << 7) | rng.Next(128));
        var e = FixedTileLayout.Encode(w, rows, cols);
        long sectionBytes = e.Escapes.Length - FixedTileLayout.EscapePadding;
        Assert.True(e.EntryCount > 1000);
        Assert.Equal(64 + 2L * e.EntryCount, sectionBytes);
        void Check(uint[] offsets, long bytes) => FixedTileLayout.CheckEscapeOffsets(rows, cols, offsets, bytes, "t");
        Check(e.TileOffsets, sectionBytes);

        uint[] first = (uint[])e.TileOffsets.Clone();
        first[0] = 1;
        Assert.Throws<CorruptTensorException>(() => Check(first, sectionBytes));
        uint[] decreasing = (uint[])e.TileOffsets.Clone();
        decreasing[3] = decreasing[4] + 1;
        var ex = Assert.Throws<CorruptTensorException>(() => Check(decreasing, sectionBytes));
        Assert.Contains("fixed tile 3", ex.Message);
        uint[] ends = (uint[])e.TileOffsets.Clone();
        ends[^1]--;
        Assert.Throws<CorruptTensorException>(() => Check(ends, sectionBytes));
        uint[] overruns = (uint[])e.TileOffsets.Clone();
        overruns[^1]++;
        Assert.Throws<CorruptTensorException>(() => Check(overruns, sectionBytes));
        Assert.Throws<CorruptTensorException>(() => Check(e.TileOffsets, sectionBytes + 2));  // one entry the offsets do not reach
        Assert.Throws<CorruptTensorException>(() => Check(e.TileOffsets, sectionBytes - 1));  // half an entry
        Assert.Throws<CorruptTensorException>(() => Check([.. e.TileOffsets.Select(_ => 0u)], 62));  // shorter than the table
        Assert.Throws<CorruptTensorException>(() => Check(e.TileOffsets[..^1], sectionBytes));  // one offset short

        // Codes: lane 5 of tile 2, every code bit set (all codes 7) is an ordinary tile now; it decodes without complaint.
        byte[] tiles = (byte[])e.Tiles.Clone();
        int codes = 2 * FixedTileLayout.TileBytes + 1024 + 4 * 5;
        for (int j = 0; j < 3; j++) BitConverter.TryWriteBytes(tiles.AsSpan(codes + 128 * j, 4), uint.MaxValue);
        FixedTileLayout.Decode(e with { Tiles = tiles }, new ushort[w.Length], "t");
    }

    /// <summary>
    /// Round trip of random BF16, F16 and F32 tensors mixing zeros, subnormals, huge values (the largest exponents, Inf and
    /// NaN), tiny normals, trained-weight-like values and random bits, including flat views with a padded tail; and the
    /// encoder's section invariants (table basis, offsets, entry order, no entries at padding weights).
    /// </summary>
    [Fact]
    public void RoundTrip_Property_MixedValues()
    {
        TensorDType[] dtypes = [TensorDType.BF16, TensorDType.F16, TensorDType.F32];
        Gen<int[]> mixes = Gen.Int[0, 9].Array[6];  // relative weight of each kind of value in one tensor
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 20], Gen.Int[1, 300], Gen.Int[0, 127], mixes, Gen.Int)
            .Sample(x =>
            {
                (int d, int rows, int cols, int tail, int[] mix, int seed) = x;
                TensorDType dt = dtypes[d];
                long n = Math.Max(0, (long)rows * cols - (cols == 128 ? tail : 0));  // flat views (128 columns) may end early
                byte[] data = MixedValues(dt, n, mix, seed);
                var e = FixedTileLayout.Encode(data, dt, rows, cols);
                byte[] back = new byte[data.Length];
                FixedTileLayout.Decode(e.Rows, e.Cols, e.Base, e.Tiles, e.TileOffsets, e.Escapes.AsSpan(0, e.Escapes.Length - FixedTileLayout.EscapePadding),
                    dt, back, "t");
                Assert.True(data.AsSpan().SequenceEqual(back), $"{dt} [{rows}, {cols}] n={n} does not round-trip");
                AssertSectionInvariants(e, n);
            }, iter: 300);
    }

    private static byte[] MixedValues(TensorDType dt, long n, int[] mix, int seed)
    {
        var rng = new Random(seed);
        int eb = dt.ByteSize(), expBits = FloatFields.ExponentBits(dt), mantBits = FloatFields.RestBits(dt) - 1;
        int maxExp = (1 << expBits) - 1, bias = maxExp >> 1;
        int total = mix.Sum();
        byte[] data = new byte[n * eb];
        for (long i = 0; i < n; i++)
        {
            uint r = (uint)rng.NextInt64(0, 1L << 32);
            int pick = total == 0 ? 5 : rng.Next(total), kind = 0;
            while (total > 0 && pick >= mix[kind]) pick -= mix[kind++];
            uint sign = r >> 31, mantissa = r & ((1u << mantBits) - 1);
            int exponent = kind switch
            {
                0 => 0,                             // ±0
                1 => 0,                             // subnormal
                2 => maxExp - rng.Next(3),          // Inf / NaN, the largest finite values
                3 => 1 + rng.Next(3),               // tiny normals
                4 => bias - 4 - rng.Next(6),        // trained weights (the window)
                _ => -1,                            // random bits
            };
            if (kind == 0) mantissa = 0;
            if (kind == 1 && mantissa == 0) mantissa = 1;
            uint v = exponent < 0 ? (eb == 2 ? r & 0xFFFF : r) : sign << (expBits + mantBits) | (uint)exponent << mantBits | mantissa;
            FloatFields.Store(data, i, eb, v);
        }
        return data;
    }

    private static void AssertSectionInvariants(FixedTileLayout.Encoded e, long n)
    {
        Assert.Equal(0u, e.TileOffsets[0]);
        Assert.Equal((uint)e.EntryCount, e.TileOffsets[^1]);
        Assert.Equal(64 + 2 * e.EntryCount + FixedTileLayout.EscapePadding, e.Escapes.Length);
        Assert.All(e.Escapes[^FixedTileLayout.EscapePadding..], b => Assert.Equal(0, b));
        for (int b = 0; b < 8; b++) Assert.Equal(1 << b, e.Escapes[56 + b]);
        for (int t = 0; t + 1 < e.TileOffsets.Length; t++)
        {
            Assert.True(e.TileOffsets[t] <= e.TileOffsets[t + 1]);
            int previous = -1;
            for (long k = e.TileOffsets[t]; k < e.TileOffsets[t + 1]; k++)
            {
                int entry = BitConverter.ToUInt16(e.Escapes, (int)(64 + 2 * k));
                int position = entry & 1023, lane = position >> 5, i = position & 31, key = position << 6 | entry >> 10;
                Assert.True(key > previous, "entries of a tile ascend by position, then slot");
                previous = key;
                long row = (long)(t / e.ColTiles) * 8 + (i >> 2), col = (long)(t % e.ColTiles) * 128 + 4 * lane + (i & 3);
                Assert.True(row < e.Rows && col < e.Cols && row * e.Cols + col < n, "an entry at a padding weight");
            }
        }
    }

}
