using System.Buffers.Binary;
using CodecLlm.Codecs;
using CodecLlm.Model;

namespace CodecLlm.Tests.Codecs;

/// <summary>Malformed blobs fail with the specific exception naming the tensor, never with a crash or silent garbage in the structure.</summary>
public class CorruptBlobTests
{
    private static (IWeightCodec Codec, TensorLayout Layout, EncodedTensor Enc) Encoded(string name)
    {
        TensorLayout layout = new(TensorDType.BF16, [37, 300]);
        IWeightCodec codec = CodecRegistry.Get(name);
        return (codec, layout, codec.Encode(TensorData.Make(TensorDType.BF16, 37 * 300, BitMode.Gaussian, 3), layout));
    }

    private static void Decode((IWeightCodec Codec, TensorLayout Layout, EncodedTensor Enc) x, byte[] blob) =>
        x.Codec.Decode(blob, x.Layout, x.Enc.Params, new byte[x.Layout.ByteLength], "blk.0.w");

    [Theory]
    [InlineData("raw")]
    [InlineData("zstd")]
    [InlineData("entropy")]
    [InlineData("fixed")]
    public void TruncatedBlobIsCorrupt(string name)
    {
        var x = Encoded(name);
        foreach (int keep in new[] { 0, 3, x.Enc.Blob.Length / 2, x.Enc.Blob.Length - 1 })
        {
            CorruptTensorException e = Assert.Throws<CorruptTensorException>(() => Decode(x, x.Enc.Blob[..keep]));
            Assert.Equal("blk.0.w", e.TensorName);
        }
    }

    [Theory]
    [InlineData("zstd")]
    [InlineData("entropy")]
    [InlineData("fixed")]
    public void BadMagicIsCorruptAndNewerVersionIsUnsupported(string name)
    {
        var x = Encoded(name);
        byte[] b = (byte[])x.Enc.Blob.Clone();
        b[0] ^= 0xFF;
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
        b = (byte[])x.Enc.Blob.Clone();
        b[4] = 99;
        Assert.Throws<UnsupportedModelException>(() => Decode(x, b));
    }

    [Fact]
    public void EntropyStructureCorruptionIsDetected()
    {
        var x = Encoded("entropy");
        ulong offsetsOffset = BinaryPrimitives.ReadUInt64LittleEndian(x.Enc.Blob.AsSpan(40));
        // (Flipped bits inside the code stream may re-synchronise; the file's CRC32 catches those.)
        // A total bit count that disagrees with the last stream offset.
        byte[] b = (byte[])x.Enc.Blob.Clone();
        b[24] ^= 1;
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
        // A stream offset beyond the next one.
        b = (byte[])x.Enc.Blob.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)offsetsOffset + 4), 0xFFFFFF);
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
        // Code lengths that are not a prefix code.
        b = (byte[])x.Enc.Blob.Clone();
        b.AsSpan(64, 128).Fill(0x11);
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
    }

    /// <summary>
    /// What a fixed blob's structure lets a decoder check: tile offsets that start above 0, decrease, end early or overrun
    /// the entries, an escape section that is not a 64-byte table and whole 2-byte entries, the geometry and the base.
    /// A changed entry or table byte is a valid section (any entry decodes to some tensor): the file's CRC32 catches it.
    /// </summary>
    [Fact]
    public void FixedEscapeCorruptionIsDetected()
    {
        var x = Encoded("fixed");
        int offsetsOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(x.Enc.Blob.AsSpan(32));
        int escapesOffset = (int)BinaryPrimitives.ReadUInt64LittleEndian(x.Enc.Blob.AsSpan(40));
        long sectionBytes = (long)BinaryPrimitives.ReadUInt64LittleEndian(x.Enc.Blob.AsSpan(48));
        const int tiles = 5 * 3;  // [37, 300]: 5 row groups x 3 column tiles
        uint Offset(byte[] blob, int k) => BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(offsetsOffset + 4 * k));
        void SetOffset(byte[] blob, int k, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(offsetsOffset + 4 * k), v);
        uint entries = Offset(x.Enc.Blob, tiles);
        Assert.True(entries > 20, $"{entries} entries: the test needs exceptions in most tiles");
        Assert.Equal(64 + 2L * entries, sectionBytes);

        byte[] b = (byte[])x.Enc.Blob.Clone();
        SetOffset(b, 4, 1_000_000);  // overruns the entries (and decreases after)
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
        b = (byte[])x.Enc.Blob.Clone();
        SetOffset(b, 6, Offset(b, 7) + 1);  // decreases from tile 6 to tile 7
        Assert.Contains("fixed tile 6", Assert.Throws<CorruptTensorException>(() => Decode(x, b)).Message);
        b = (byte[])x.Enc.Blob.Clone();
        SetOffset(b, 0, 1);  // does not start at 0
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
        b = (byte[])x.Enc.Blob.Clone();
        SetOffset(b, tiles, entries - 1);  // ends early
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
        b = (byte[])x.Enc.Blob.Clone();
        SetOffset(b, tiles, entries + 1);  // ends past the last entry
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
        foreach (long bytes in new[] { sectionBytes - 1, sectionBytes - 2, 62, 0 })  // half an entry; an entry less; no whole table
        {
            b = (byte[])x.Enc.Blob.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), (ulong)bytes);
            Assert.Equal("blk.0.w", Assert.Throws<CorruptTensorException>(() => Decode(x, b)).TensorName);
        }
        b = (byte[])x.Enc.Blob.Clone();
        b[8] ^= 8; // rows
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
        b = (byte[])x.Enc.Blob.Clone();
        b[16] = 250; // base exponent above 248
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));

        // Not detectable: an entry's slot or position, a table byte (the tensor changes; the decode succeeds).
        b = (byte[])x.Enc.Blob.Clone();
        b[escapesOffset + 64 + 1] ^= 0xFC;
        b[escapesOffset + 3] ^= 0x55;
        Decode(x, b);
    }

    [Fact]
    public void FixedCorruptionInALargeTensorIsDetected()
    {
        // Large enough for the parallel decode: a tile offset in the middle beyond its neighbour's (decreasing offsets).
        TensorLayout layout = new(TensorDType.BF16, [512, 1024]);
        IWeightCodec codec = CodecRegistry.Get("fixed");
        byte[] data = TensorData.Make(TensorDType.BF16, 512 * 1024, BitMode.Gaussian, 5);
        EncodedTensor enc = codec.Encode(data, layout);
        byte[] back = new byte[data.Length];
        codec.Decode(enc.Blob, layout, enc.Params, back, "big");
        Assert.True(back.AsSpan().SequenceEqual(data));
        ulong offsetsOffset = BinaryPrimitives.ReadUInt64LittleEndian(enc.Blob.AsSpan(32));
        int k = 200;  // tile 200 of 512
        byte[] b = (byte[])enc.Blob.Clone();
        uint next = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)offsetsOffset + 4 * (k + 1)));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)offsetsOffset + 4 * k), next + 1);
        CorruptTensorException e = Assert.Throws<CorruptTensorException>(() => codec.Decode(b, layout, enc.Params, back, "big"));
        Assert.Equal("big", e.TensorName);
    }

    /// <summary>
    /// Version 1 (4x256 tiles), version 2 (a lane's 32 rest fields together) and version 3 (code 7 = an escape byte) are
    /// no longer read.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void OlderFixedBlobIsAnUnsupportedLayoutVersion(int version)
    {
        var x = Encoded("fixed");
        byte[] b = (byte[])x.Enc.Blob.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), (ushort)version);
        UnsupportedModelException e = Assert.Throws<UnsupportedModelException>(() => Decode(x, b));
        Assert.Contains($"unsupported fixed layout version {version}", e.Message);
        Assert.Contains("blk.0.w", e.Message);
    }

    [Fact]
    public void ZstdFrameCorruptionIsDetected()
    {
        var x = Encoded("zstd");
        byte[] b = (byte[])x.Enc.Blob.Clone();
        for (int i = 70; i < 90; i++) b[i] ^= 0xFF;
        Assert.Throws<CorruptTensorException>(() => Decode(x, b));
    }
}
